package crawl

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"adharvest/checkpoint"
	"adharvest/countries"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/sink"
	"adharvest/tiktok/api"
)

// dataset knows how to ask one endpoint and how to turn its pages into rows.
type dataset struct {
	name     string
	table    sink.Table
	endpoint string
	fields   []string
	// paged datasets follow search_id/has_more; the others are one request per shard.
	paged bool
	// page reads a response's data: its item count and paging fields.
	page func(data json.RawMessage) (items int, pg api.Page, err error)
	// write decodes pages into rows and writes them as one part (nothing when
	// there are no rows), returning what it wrote to the dataset's own table.
	// part gives the file of this part for any table, so that child tables are
	// written in the same flush under the same part number.
	write func(part func(sink.Table) string, sh *Shard, pages []checkpoint.Page) (written, error)
}

// written is what one flush wrote: the rows of the dataset's own table and,
// for the ads table, the ads the part holds (for the checkpoint's ad index).
type written struct {
	rows int64
	ads  []checkpoint.AdSeen
}

// Shard is one planned unit of work: a dataset, a partition (country), a date
// window and a term. Its ID is stable across runs and names its files.
type Shard struct {
	ID         string
	Dataset    string
	Partition  string // Hive partition value, e.g. "FR"
	Stem       string // file name stem, e.g. "20240101-20240107_all"
	Term       string
	SearchType string
	Window     job.Window
	// AdvertiserIDs are the ids the request filtered on, for ad_reports rows.
	AdvertiserIDs []int64
	ds            *dataset
	// request builds the request body for a page; searchID is "" for the first.
	request func(searchID string) any
	reqHash string
}

// Plan splits a normalized job into shards, in the order they run: dataset by
// dataset, then query, window, country and term. Queries that overlap produce
// the same shard once. ad-details is not planned here: it fans out over the ads
// that the ads shards found (see Crawler.RunDetails).
func Plan(j job.Job) []*Shard {
	var out []*Shard
	seen := map[string]bool{}
	add := func(shs ...*Shard) {
		for _, sh := range shs {
			if !seen[sh.ID] {
				seen[sh.ID] = true
				out = append(out, sh)
			}
		}
	}
	for _, d := range j.Datasets {
		for _, q := range j.Queries {
			switch d {
			case job.Ads:
				add(planAds(j, q)...)
			case job.AdReports:
				add(planReports(j, q)...)
			case job.CommercialContent:
				add(planContent(j, q)...)
			case job.Advertisers:
				add(planAdvertisers(j, q)...)
			}
		}
	}
	return out
}

// newShard names a shard after its request: "all" for a request with no
// filter beyond country and window, otherwise a short hash of the request, since
// terms can hold any Unicode and file names cannot.
func newShard(ds *dataset, partition string, w job.Window, label string, filtered bool, req func(string) any) *Shard {
	b, _ := json.Marshal(req(""))
	h := sha256.Sum256(append([]byte(ds.endpoint+"\x00"), b...))
	key := "all"
	if filtered {
		key = "q" + hex.EncodeToString(h[:5])
	}
	stem := key
	if label != "" {
		stem = label + "_" + key
	}
	sh := &Shard{Dataset: ds.name, Partition: partition, Stem: stem, Window: w, ds: ds, request: req, reqHash: hex.EncodeToString(h[:8])}
	sh.ID = shardID(ds.table, partition, stem)
	return sh
}

func shardID(t sink.Table, partition, stem string) string {
	if t.Partition == "" {
		return t.OwnerName() + "/" + stem
	}
	return t.OwnerName() + "/" + partition + "/" + stem
}

// rawPath is where part n of a shard's raw responses lives.
func (sh *Shard) rawPath(f folder.Folder, n int) string {
	return f.RawPart(sh.ds.table, sh.Partition, sh.Stem, n)
}

func (sh *Shard) provenance(p checkpoint.Page) sink.Provenance {
	pr := sink.Provenance{SearchTerm: sh.Term, SearchType: sh.SearchType, FetchedAt: p.FetchedAt.UTC(), RunID: p.RunID, ShardID: sh.ID}
	if !sh.Window.From.IsZero() {
		pr.WindowStart, pr.WindowEnd = sink.Day(sh.Window.From), sink.Day(sh.Window.To)
	}
	return pr
}

// planAds makes one shard per country × window × term. Without terms there is
// one unfiltered shard per country and window (restricted to the advertiser ids
// when given). The API ignores advertiser ids when a term is present, so they
// are sent only on term-less shards.
func planAds(j job.Job, q job.Query) []*Shard {
	type variant struct {
		term string
		ids  []int64
	}
	var vs []variant
	for _, t := range q.Terms {
		vs = append(vs, variant{term: t})
	}
	if len(q.Terms) == 0 || len(q.AdvertiserIDs) > 0 {
		vs = append(vs, variant{ids: q.AdvertiserIDs})
	}
	var size *api.SizeRange
	if q.ReachMin != "" || q.ReachMax != "" {
		size = &api.SizeRange{Min: q.ReachMin, Max: q.ReachMax}
	}
	var out []*Shard
	for _, w := range q.Windows(j.WindowDays) {
		for _, c := range q.Countries {
			for _, v := range vs {
				body := api.AdQuery{
					Filters: api.AdFilters{
						PublishedRange:        api.NewDateRange(w.From, w.To),
						CountryCode:           c,
						AdvertiserBusinessIDs: v.ids,
						UniqueUsersSeen:       size,
					},
					SearchTerm: v.term,
					MaxCount:   j.MaxCount,
				}
				if v.term != "" {
					body.SearchType = q.SearchType
				}
				req := func(searchID string) any { b := body; b.SearchID = searchID; return b }
				sh := newShard(adsDataset, c, w, w.Label(), v.term != "" || len(v.ids) > 0 || size != nil, req)
				sh.Term, sh.SearchType = v.term, body.SearchType
				out = append(out, sh)
			}
		}
	}
	return out
}

// planReports makes one ad/report request per country and window. When a query
// covers every country the API serves, one request for ALL answers for all of
// them at once.
func planReports(j job.Job, q job.Query) []*Shard {
	cs := q.Countries
	if len(cs) == len(countries.All) {
		cs = []string{"ALL"}
	}
	var out []*Shard
	for _, w := range q.Windows(j.WindowDays) {
		for _, c := range cs {
			body := api.AdReportRequest{Filters: api.AdReportFilters{
				PublishedRange: api.NewDateRange(w.From, w.To), CountryCode: c, AdvertiserBusinessIDs: q.AdvertiserIDs,
			}}
			sh := newShard(reportsDataset, c, w, w.Label(), len(q.AdvertiserIDs) > 0, func(string) any { return body })
			sh.AdvertiserIDs = q.AdvertiserIDs
			out = append(out, sh)
		}
	}
	return out
}

// planContent makes one paged commercial_content/query shard per EEA creator
// country and window; GB (and anything else outside the EEA) is skipped, as
// Job.Normalize warned.
func planContent(j job.Job, q job.Query) []*Shard {
	cs, _ := countries.Split(q.Countries, countries.ScopeCommercial)
	var out []*Shard
	for _, w := range q.Windows(j.WindowDays) {
		for _, c := range cs {
			body := api.CommercialContentQuery{
				Filters: api.CommercialContentFilters{
					PublishedRange: api.NewDateRange(w.From, w.To), CreatorCountryCode: c, CreatorUsernames: q.CreatorUsernames,
				},
				MaxCount: j.MaxCount,
			}
			req := func(searchID string) any { b := body; b.SearchID = searchID; return b }
			out = append(out, newShard(contentDataset, c, w, w.Label(), len(q.CreatorUsernames) > 0, req))
		}
	}
	return out
}

// planAdvertisers makes one advertiser/query request per term. The endpoint
// takes neither countries nor dates.
func planAdvertisers(j job.Job, q job.Query) []*Shard {
	var out []*Shard
	for _, t := range q.Terms {
		body := api.AdvertiserQuery{SearchTerm: t, MaxCount: j.MaxCount}
		sh := newShard(advertisersDataset, "", job.Window{}, "", true, func(string) any { return body })
		sh.Term = t
		out = append(out, sh)
	}
	return out
}
