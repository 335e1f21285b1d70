package harvest

import (
	"encoding/json"

	"adharvest/checkpoint"
	"adharvest/harvest/api"
	"adharvest/sink"
)

var adsDataset = &dataset{
	name:     DatasetAds,
	table:    sink.Ads,
	endpoint: api.EndpointAdQuery,
	fields:   api.AdQueryFields,
	paged:    true,
	page: func(data json.RawMessage) (int, api.Page, error) {
		var d api.AdQueryData
		if err := json.Unmarshal(data, &d); err != nil {
			return 0, api.Page{}, err
		}
		return len(d.Ads), d.Page, nil
	},
	write: writeAds,
}

// writeAds decodes ad/query pages into rows. An ad repeated within the pages
// (the API pages over a live index) is written once.
func writeAds(part func(sink.Table) string, sh *Shard, pages []checkpoint.Page) (int64, error) {
	var rows []sink.AdRow
	seen := map[int64]bool{}
	err := decodePages(pages, func(p checkpoint.Page, d api.AdQueryData) {
		for _, a := range d.Ads {
			if !a.Ad.ID.Valid || seen[a.Ad.ID.V] {
				continue
			}
			seen[a.Ad.ID.V] = true
			reach := api.ParseBounds(string(a.Ad.Reach.UniqueUsersSeen))
			rows = append(rows, sink.AdRow{
				AdID:            a.Ad.ID.V,
				FirstShownDate:  sink.DayPtr(a.Ad.FirstShownDate.Ptr()),
				LastShownDate:   sink.DayPtr(a.Ad.LastShownDate.Ptr()),
				Status:          a.Ad.Status.Ptr(),
				StatusStatement: a.Ad.StatusStatement.Ptr(),
				VideoURLs:       a.Ad.VideoURLs(),
				ImageURLs:       nonNil(a.Ad.ImageURLs),
				ReachText:       a.Ad.Reach.UniqueUsersSeen.Ptr(),
				ReachLower:      reach.Lower,
				ReachUpper:      reach.Upper,
				BusinessID:      a.Advertiser.BusinessID.Ptr(),
				BusinessName:    a.Advertiser.BusinessName.Ptr(),
				PaidForBy:       a.Advertiser.PaidForBy.Ptr(),
				Provenance:      sh.provenance(p),
			})
		}
	})
	if err != nil {
		return 0, err
	}
	return writeIfAny(part(sh.ds.table), rows)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
