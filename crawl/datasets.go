package crawl

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"adharvest/checkpoint"
	"adharvest/job"
	"adharvest/sink"
	"adharvest/tiktok/api"
)

// decodePages decodes each page's envelope data into T, in fetch order.
func decodePages[T any](pages []checkpoint.Page, each func(p checkpoint.Page, d T)) error {
	for _, p := range pages {
		env, err := api.DecodeEnvelope(p.Body)
		if err != nil {
			return fmt.Errorf("page %d: %w", p.Seq, err)
		}
		var d T
		if err := json.Unmarshal(env.Data, &d); err != nil {
			return fmt.Errorf("page %d (log_id %s): %w", p.Seq, p.LogID, err)
		}
		each(p, d)
	}
	return nil
}

// writeIfAny writes rows to path unless there are none.
func writeIfAny[T any](path string, rows []T) (written, error) {
	if len(rows) == 0 {
		return written{}, nil
	}
	return written{rows: int64(len(rows))}, sink.WriteParquet(path, rows)
}

var reportsDataset = &dataset{
	name:     job.AdReports,
	table:    sink.AdReports,
	endpoint: api.EndpointAdReport,
	fields:   api.AdReportFields,
	page: func(data json.RawMessage) (int, api.Page, error) {
		var d api.ReportData
		if err := json.Unmarshal(data, &d); err != nil {
			return 0, api.Page{}, err
		}
		n := 0
		for _, s := range d.CountTimeSeriesByCountry {
			n += len(s)
		}
		return n, api.Page{}, nil
	},
	write: func(part func(sink.Table) string, sh *Shard, pages []checkpoint.Page) (written, error) {
		var rows []sink.AdReportRow
		ids := sh.AdvertiserIDs
		if ids == nil {
			ids = []int64{}
		}
		err := decodePages(pages, func(p checkpoint.Page, d api.ReportData) {
			cs := make([]string, 0, len(d.CountTimeSeriesByCountry))
			for c := range d.CountTimeSeriesByCountry {
				cs = append(cs, c)
			}
			sort.Strings(cs)
			for _, c := range cs {
				seen := map[int32]bool{}
				for _, dc := range d.CountTimeSeriesByCountry[c] {
					if !dc.Date.Valid || !dc.Count.Valid {
						continue
					}
					day := *sink.Day(dc.Date.T)
					if seen[day] {
						continue
					}
					seen[day] = true
					rows = append(rows, sink.AdReportRow{CountryCode: api.Clean(c), Date: day, Count: dc.Count.V, AdvertiserIDs: ids, Provenance: sh.provenance(p)})
				}
			}
		})
		if err != nil {
			return written{}, err
		}
		return writeIfAny(part(sh.ds.table), rows)
	},
}

var contentDataset = &dataset{
	name:     job.CommercialContent,
	table:    sink.CommercialContent,
	endpoint: api.EndpointCommercialContent,
	fields:   api.CommercialContentField,
	paged:    true,
	page: func(data json.RawMessage) (int, api.Page, error) {
		var d api.CommercialContentData
		if err := json.Unmarshal(data, &d); err != nil {
			return 0, api.Page{}, err
		}
		return len(d.CommercialContents), d.Page, nil
	},
	write: func(part func(sink.Table) string, sh *Shard, pages []checkpoint.Page) (written, error) {
		var rows []sink.CommercialContentRow
		seen := map[string]bool{}
		err := decodePages(pages, func(p checkpoint.Page, d api.CommercialContentData) {
			for _, c := range d.CommercialContents {
				if c.ID == "" || seen[string(c.ID)] {
					continue
				}
				seen[string(c.ID)] = true
				row := sink.CommercialContentRow{
					ContentID:       string(c.ID),
					CreateDate:      sink.DayPtr(c.CreateDate.Ptr()),
					Label:           c.Label.Ptr(),
					BrandNames:      nonNil(c.BrandNames),
					CreatorUsername: c.Creator.Username.Ptr(),
					Videos:          []sink.ContentVideo{},
					VideoURLs:       []string{},
					Provenance:      sh.provenance(p),
				}
				if c.CreateTimestamp.Valid {
					ts := time.Unix(c.CreateTimestamp.V, 0).UTC()
					row.CreateTimestamp = &ts
				}
				for _, v := range c.Videos {
					row.Videos = append(row.Videos, sink.ContentVideo{ID: v.ID.Ptr(), Status: v.Status.Ptr(), URL: v.URL.Ptr(), CoverImageURL: v.CoverImageURL.Ptr()})
					if v.URL != "" {
						row.VideoURLs = append(row.VideoURLs, string(v.URL))
					}
				}
				rows = append(rows, row)
			}
		})
		if err != nil {
			return written{}, err
		}
		return writeIfAny(part(sh.ds.table), rows)
	},
}

var advertisersDataset = &dataset{
	name:     job.Advertisers,
	table:    sink.Advertisers,
	endpoint: api.EndpointAdvertiserQuery,
	fields:   api.AdvertiserQueryFields,
	page: func(data json.RawMessage) (int, api.Page, error) {
		var d api.AdvertiserQueryData
		if err := json.Unmarshal(data, &d); err != nil {
			return 0, api.Page{}, err
		}
		return len(d.Advertisers), api.Page{}, nil
	},
	write: func(part func(sink.Table) string, sh *Shard, pages []checkpoint.Page) (written, error) {
		var rows []sink.AdvertiserRow
		seen := map[int64]bool{}
		err := decodePages(pages, func(p checkpoint.Page, d api.AdvertiserQueryData) {
			for _, a := range d.Advertisers {
				if !a.BusinessID.Valid || seen[a.BusinessID.V] {
					continue
				}
				seen[a.BusinessID.V] = true
				rows = append(rows, sink.AdvertiserRow{BusinessID: a.BusinessID.V, BusinessName: a.BusinessName.Ptr(), CountryCode: a.CountryCode.Ptr(), Provenance: sh.provenance(p)})
			}
		})
		if err != nil {
			return written{}, err
		}
		return writeIfAny(part(sh.ds.table), rows)
	},
}
