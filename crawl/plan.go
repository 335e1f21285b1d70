package crawl

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"time"

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
	// paged datasets follow search_id/has_more; the others are one request per shard.
	paged bool
	// decode reads a response's data once, as it arrives: the decoded page
	// that write turns into rows, and what the crawl needs to go on (its
	// items and rejects, and its paging fields).
	decode func(data json.RawMessage) (any, pageInfo, error)
	// write turns decoded pages into rows and writes them as one part
	// (nothing when there are no rows), returning what it wrote to the
	// dataset's own table. pw gives the file of this part for any table, so
	// that child tables are written in the same flush under the same part
	// number.
	write func(pw *partWriter, sh *Shard, pages []fetched) (written, error)
}

// written is what one flush wrote: the rows of the dataset's own table and,
// for the ads table, the ads the part holds (for the checkpoint's ad index).
type written struct {
	rows int64
	ads  []checkpoint.AdSeen
	// overlap counts ads the pages returned that the slice's predecessor
	// holds already (see Shard.exclude): not written again.
	overlap int64
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
	// maxCount is the page size asked for (0 when the endpoint has none): a
	// page with more items is worth a warning.
	maxCount int
	// plan marks a report asked only to plan slices: it writes no ad_reports
	// rows (the job did not ask for them), only its raw twin.
	plan bool
	// Planned says how the slice was cut ("report", "blind", "fixed", or
	// "half" of a short slice), and Expected is what the report counts in it
	// (-1 when no report says).
	Planned  string
	Expected int64
	// exact tells whether Expected counts exactly what the slice returns;
	// counts are the daily counts its window was cut from (for halves).
	exact  bool
	counts map[string]int64
	// track makes a slice of the same search over another window (nil for
	// shards outside a track).
	track func(w job.Window) *Shard
	// after names the slice this one took over from when its search_id
	// died: the two share the day the predecessor stopped at, and exclude
	// holds the predecessor's ads, which this slice does not write again.
	after   string
	exclude map[int64]bool
	ds      *dataset
	// request builds the request body for a page; searchID is "" for the first.
	request func(searchID string) any
	reqHash string
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

// narrowed is the slice that takes over the days of sh up to day (included),
// when sh's search_id died overnight after reaching it. A planned slice's
// expected count follows from its report's counts.
func (sh *Shard) narrowed(day time.Time) *Shard {
	child := sh.track(job.Window{From: sh.Window.From, To: day})
	child.Planned, child.exact, child.counts, child.track = sh.Planned, sh.exact, sh.counts, sh.track
	child.after = sh.ID
	child.Expected = -1
	if sh.counts != nil {
		child.Expected = expectedIn(sh.counts, sh.Window.From, day)
	}
	return child
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

// adVariants are the searches of ad/query one query makes in a country: one
// per term and, without terms (or with advertiser ids), one unfiltered by
// term (restricted to the advertiser ids when given). The API ignores
// advertiser ids when a term is present, so they are sent only on term-less
// searches.
type adVariant struct {
	term string
	ids  []int64
}

func adVariants(q job.Query) []adVariant {
	var vs []adVariant
	for _, t := range q.Terms {
		vs = append(vs, adVariant{term: t})
	}
	if len(q.Terms) == 0 || len(q.AdvertiserIDs) > 0 {
		vs = append(vs, adVariant{ids: q.AdvertiserIDs})
	}
	return vs
}

// adsShard is the ad/query shard of one variant of q in country c over w.
func adsShard(j job.Job, q job.Query, v adVariant, c string, w job.Window) *Shard {
	var size *api.SizeRange
	if q.ReachMin != "" || q.ReachMax != "" {
		size = &api.SizeRange{Min: q.ReachMin, Max: q.ReachMax}
	}
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
	sh.Term, sh.SearchType, sh.maxCount = v.term, body.SearchType, j.MaxCount
	return sh
}

// reportShard is the ad/report shard of country c (or ALL) over w, for the
// advertiser ids of q.
func reportShard(q job.Query, c string, w job.Window) *Shard {
	body := api.AdReportRequest{Filters: api.AdReportFilters{
		PublishedRange: api.NewDateRange(w.From, w.To), CountryCode: c, AdvertiserBusinessIDs: q.AdvertiserIDs,
	}}
	sh := newShard(reportsDataset, c, w, w.Label(), len(q.AdvertiserIDs) > 0, func(string) any { return body })
	sh.AdvertiserIDs = q.AdvertiserIDs
	return sh
}

// contentShard is the commercial_content/query shard of creator country c
// over w.
func contentShard(j job.Job, q job.Query, c string, w job.Window) *Shard {
	body := api.CommercialContentQuery{
		Filters: api.CommercialContentFilters{
			PublishedRange: api.NewDateRange(w.From, w.To), CreatorCountryCode: c, CreatorUsernames: q.CreatorUsernames,
		},
		MaxCount: j.MaxCount,
	}
	req := func(searchID string) any { b := body; b.SearchID = searchID; return b }
	sh := newShard(contentDataset, c, w, w.Label(), len(q.CreatorUsernames) > 0, req)
	sh.maxCount = j.MaxCount
	return sh
}

// reportCountries are the countries a query's reports are asked for: ALL as
// one request when the query asks for ALL, or for every country the API serves.
func reportCountries(q job.Query) []string {
	if len(q.Countries) == len(countries.All) || (len(q.Countries) == 1 && q.Countries[0] == countries.AllCode) {
		return []string{countries.AllCode}
	}
	return q.Countries
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
