package crawl

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/sink"
	"adharvest/tiktok/api"
)

// fetched is a page as the crawl holds it until its part is written: its
// record (with its body until the raw twin has it) and its data, decoded
// once, on arrival, by the dataset's decoder.
type fetched struct {
	checkpoint.Page
	data any
}

// decoder makes a dataset's decode from one of the item-level decoders of
// package api (which keep the good items of a page and return the bad ones
// as rejects) and what the crawl reads of its result.
func decoder[T any](dec func(json.RawMessage) (T, error), info func(T) pageInfo) func(json.RawMessage) (any, pageInfo, error) {
	return func(data json.RawMessage) (any, pageInfo, error) {
		d, err := dec(data)
		if err != nil {
			return nil, pageInfo{}, err
		}
		return d, info(d), nil
	}
}

// eachPage hands each page's decoded data to fn, in fetch order.
func eachPage[T any](pages []fetched, fn func(p checkpoint.Page, d T)) {
	for _, f := range pages {
		fn(f.Page, f.data.(T))
	}
}

// decodeStored decodes pages read back from the checkpoint or from raw
// files (a resumed shard's pending pages, a rebuild, a reparse).
func decodeStored(ds *dataset, pages []checkpoint.Page) ([]fetched, error) {
	out := make([]fetched, 0, len(pages))
	for _, p := range pages {
		env, err := api.DecodeEnvelope(p.Body)
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", p.Seq, err)
		}
		d, _, err := ds.decode(env.Data)
		if err != nil {
			return nil, fmt.Errorf("page %d (log_id %s): %w", p.Seq, p.LogID, err)
		}
		out = append(out, fetched{Page: p, data: d})
	}
	return out, nil
}

// pageInfo is what the crawl needs of a page as it arrives: its items, good
// and rejected (both take a place on the page), and its paging fields.
type pageInfo struct {
	items, rejects int
	page           api.Page
}

// rejectRows turns a page's rejects into rows of the rejects table.
func rejectRows(sh *Shard, p checkpoint.Page, rejects []api.Reject) []sink.RejectRow {
	out := make([]sink.RejectRow, 0, len(rejects))
	for _, r := range rejects {
		msg := r.Err
		if r.Key != "" {
			msg = r.Key + ": " + msg
		}
		out = append(out, sink.RejectRow{
			Dataset: sh.Dataset, Endpoint: sh.ds.endpoint, Partition: sh.Partition,
			ItemIndex: int32(r.Index), ItemJSON: string(r.Item), Error: msg, LogID: p.LogID,
			Provenance: sh.provenance(p),
		})
	}
	return out
}

// writeRejects writes the rejects of a part, if any, as its rejects file.
func writeRejects(pw *partWriter, rows []sink.RejectRow) error {
	_, err := writeTable(pw, sink.Rejects, rows)
	return err
}

// partWriter writes the files of one part of a shard and remembers each, with
// its rows, size and SHA-256, for the checkpoint's file registry.
type partWriter struct {
	f     folder.Folder
	sh    *Shard
	n     int
	files []checkpoint.File
}

// path is where table t's file of this part goes.
func (pw *partWriter) path(t sink.Table) string {
	if t.Owner == "*" {
		return pw.f.SharedPart(t, pw.sh.ds.table.Name, pw.sh.Partition, pw.sh.Stem, pw.n)
	}
	return pw.f.Part(t, pw.sh.Partition, pw.sh.Stem, pw.n)
}

func (pw *partWriter) add(path, table string, raw bool, rows int64, sum sink.Sum) {
	pw.files = append(pw.files, checkpoint.File{
		Path: pw.f.Rel(path), Shard: pw.sh.ID, Part: pw.n, Table: table, Raw: raw,
		Rows: rows, Size: sum.Size, SHA256: sum.SHA256, Schema: sink.SchemaVersion,
	})
}

// writeTable writes rows as table t's file of the part, unless there are none
// (a part whose pages held nothing for a table writes no file for it).
func writeTable[T any](pw *partWriter, t sink.Table, rows []T) (written, error) {
	if len(rows) == 0 {
		return written{}, nil
	}
	path := pw.path(t)
	sum, err := sink.WriteParquetSum(path, rows)
	if err != nil {
		return written{}, err
	}
	pw.add(path, t.Name, false, int64(len(rows)), sum)
	return written{rows: int64(len(rows))}, nil
}

var reportsDataset = &dataset{
	name:     job.AdReports,
	table:    sink.AdReports,
	endpoint: api.EndpointAdReport,
	decode: decoder(api.DecodeAdReport, func(d api.AdReportPage) pageInfo {
		return pageInfo{items: d.Count(), rejects: len(d.Rejects)}
	}),
	write: func(pw *partWriter, sh *Shard, pages []fetched) (written, error) {
		var rows []sink.AdReportRow
		var rejects []sink.RejectRow
		ids := sh.AdvertiserIDs
		if ids == nil {
			ids = []int64{}
		}
		eachPage(pages, func(p checkpoint.Page, d api.AdReportPage) {
			rejects = append(rejects, rejectRows(sh, p, d.Rejects)...)
			if sh.plan {
				return // asked only to plan: the job has no ad_reports
			}
			cs := make([]string, 0, len(d.Series))
			for c := range d.Series {
				cs = append(cs, c)
			}
			sort.Strings(cs)
			for _, c := range cs {
				seen := map[int32]bool{}
				for _, dc := range d.Series[c] {
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
		if err := writeRejects(pw, rejects); err != nil {
			return written{}, err
		}
		return writeTable(pw, sh.ds.table, rows)
	},
}

var contentDataset = &dataset{
	name:     job.CommercialContent,
	table:    sink.CommercialContent,
	endpoint: api.EndpointCommercialContent,
	paged:    true,
	decode: decoder(api.DecodeCommercialContent, func(d api.CommercialContentPage) pageInfo {
		return pageInfo{items: len(d.CommercialContents), rejects: len(d.Rejects), page: d.Page}
	}),
	write: func(pw *partWriter, sh *Shard, pages []fetched) (written, error) {
		var rows []sink.CommercialContentRow
		var rejects []sink.RejectRow
		seen := map[string]bool{}
		eachPage(pages, func(p checkpoint.Page, d api.CommercialContentPage) {
			rejects = append(rejects, rejectRows(sh, p, d.Rejects)...)
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
		if err := writeRejects(pw, rejects); err != nil {
			return written{}, err
		}
		return writeTable(pw, sh.ds.table, rows)
	},
}

var advertisersDataset = &dataset{
	name:     job.Advertisers,
	table:    sink.Advertisers,
	endpoint: api.EndpointAdvertiserQuery,
	decode: decoder(api.DecodeAdvertiserQuery, func(d api.AdvertiserQueryPage) pageInfo {
		return pageInfo{items: len(d.Advertisers), rejects: len(d.Rejects)}
	}),
	write: func(pw *partWriter, sh *Shard, pages []fetched) (written, error) {
		var rows []sink.AdvertiserRow
		var rejects []sink.RejectRow
		seen := map[int64]bool{}
		eachPage(pages, func(p checkpoint.Page, d api.AdvertiserQueryPage) {
			rejects = append(rejects, rejectRows(sh, p, d.Rejects)...)
			for _, a := range d.Advertisers {
				if !a.BusinessID.Valid || seen[a.BusinessID.V] {
					continue
				}
				seen[a.BusinessID.V] = true
				rows = append(rows, sink.AdvertiserRow{BusinessID: a.BusinessID.V, BusinessName: a.BusinessName.Ptr(), CountryCode: a.CountryCode.Ptr(), Provenance: sh.provenance(p)})
			}
		})
		if err := writeRejects(pw, rejects); err != nil {
			return written{}, err
		}
		return writeTable(pw, sh.ds.table, rows)
	},
}
