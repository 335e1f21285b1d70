package harvest

import (
	"encoding/json"
	"fmt"

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

// planAds makes one shard per country × window × term. Without terms there is
// one unfiltered shard per country and window (restricted to the advertiser ids
// when given). The API ignores advertiser ids when a term is present, so they
// are sent only on term-less shards.
func planAds(job Job) []*Shard {
	type q struct {
		term string
		ids  []int64
	}
	var qs []q
	for _, t := range job.Terms {
		qs = append(qs, q{term: t})
	}
	if len(job.Terms) == 0 || len(job.AdvertiserIDs) > 0 {
		qs = append(qs, q{ids: job.AdvertiserIDs})
	}
	var size *api.SizeRange
	if job.ReachMin != "" || job.ReachMax != "" {
		size = &api.SizeRange{Min: job.ReachMin, Max: job.ReachMax}
	}
	var out []*Shard
	for _, w := range job.Windows() {
		for _, c := range job.Countries {
			for _, q := range qs {
				body := api.AdQuery{
					Filters: api.AdFilters{
						PublishedRange:        api.NewDateRange(w.From, w.To),
						CountryCode:           c,
						AdvertiserBusinessIDs: q.ids,
						UniqueUsersSeen:       size,
					},
					SearchTerm: q.term,
					MaxCount:   job.MaxCount,
				}
				if q.term != "" {
					body.SearchType = job.SearchType
				}
				req := func(searchID string) any { b := body; b.SearchID = searchID; return b }
				out = append(out, newShard(adsDataset, c, w, q.term, body.SearchType, termKey(q.term, body.SearchType, q.ids), req))
			}
		}
	}
	return out
}

// writeAds decodes ad/query pages into rows. An ad repeated within the pages
// (the API pages over a live index) is written once.
func writeAds(path string, sh *Shard, pages []checkpoint.Page) (int64, error) {
	var rows []sink.AdRow
	seen := map[int64]bool{}
	for _, p := range pages {
		env, err := api.DecodeEnvelope(p.Body)
		if err != nil {
			return 0, fmt.Errorf("page %d: %w", p.Seq, err)
		}
		var d api.AdQueryData
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return 0, fmt.Errorf("page %d: %w", p.Seq, err)
		}
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
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return int64(len(rows)), sink.WriteParquet(path, rows)
}

func (sh *Shard) provenance(p checkpoint.Page) sink.Provenance {
	return sink.Provenance{
		SearchTerm: sh.Term, SearchType: sh.SearchType, WindowStart: sink.Day(sh.Window.From), WindowEnd: sink.Day(sh.Window.To),
		FetchedAt: p.FetchedAt.UTC(), RunID: p.RunID, ShardID: sh.ID,
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
