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
			rows = append(rows, sink.AdRow{
				AdFields:   adFields(a.Ad.ID.V, a.Ad, a.Advertiser),
				Provenance: sh.provenance(p),
			})
		}
	})
	if err != nil {
		return 0, err
	}
	return writeIfAny(part(sh.ds.table), rows)
}

// adFields maps what ad/query and ad/detail both send about an ad onto the
// columns the ads and ad_details tables share.
func adFields(id int64, a api.Ad, adv api.Advertiser) sink.AdFields {
	reach := api.ParseBounds(string(a.Reach.UniqueUsersSeen))
	return sink.AdFields{
		AdID:            id,
		FirstShownDate:  sink.DayPtr(a.FirstShownDate.Ptr()),
		LastShownDate:   sink.DayPtr(a.LastShownDate.Ptr()),
		Status:          a.Status.Ptr(),
		StatusStatement: a.StatusStatement.Ptr(),
		VideoURLs:       a.VideoURLs(),
		ImageURLs:       nonNil(a.ImageURLs),
		ReachText:       a.Reach.UniqueUsersSeen.Ptr(),
		ReachLower:      reach.Lower,
		ReachUpper:      reach.Upper,
		BusinessID:      adv.BusinessID.Ptr(),
		BusinessName:    adv.BusinessName.Ptr(),
		PaidForBy:       adv.PaidForBy.Ptr(),
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
