package crawl

import (
	"sort"
	"strings"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/job"
)

// Estimate is what a plan says a job will cost, from the report answers
// alone: per dataset and country the records expected, the slices, and the
// requests, with the report requests already sent counted in.
type Estimate struct {
	Datasets []DatasetEstimate `json:"datasets"`
	// TotalRequests is the whole job's cost, the report requests included;
	// ReportRequests are those the plan sent (a later harvest of the folder
	// does not send them again).
	TotalRequests  int `json:"total_requests"`
	ReportRequests int `json:"report_requests"`
	// Blind is set when some tracks have no report that counts them (search
	// terms, commercial content): their figures are lower bounds.
	Blind bool `json:"blind"`
	// Queries is the cost of each query of the job, in order: what a job
	// file's entries cost apart (a report two queries share is counted
	// under the first; ad-details under the query whose ads it details).
	Queries []QueryEstimate `json:"queries,omitempty"`
}

// QueryEstimate is one query's share of an Estimate.
type QueryEstimate struct {
	Query    int    `json:"query"` // 1-based
	Datasets string `json:"datasets"`
	Requests int    `json:"requests"`
	Blind    bool   `json:"blind,omitempty"`
}

// DatasetEstimate is one dataset's share of an Estimate.
type DatasetEstimate struct {
	Dataset         string            `json:"dataset"`
	ExpectedRecords int64             `json:"expected_records"`
	Slices          int               `json:"slices"`
	Requests        int               `json:"requests"`
	Countries       []CountryEstimate `json:"countries,omitempty"`
	// Bound says how to read ExpectedRecords: "" (as reported), "at most"
	// (ad-details: an ad shown in several countries is reported in each) or
	// "at least" (part of it could not be counted).
	Bound string `json:"bound,omitempty"`
}

// CountryEstimate is one country of a dataset.
type CountryEstimate struct {
	Country         string `json:"country"`
	ExpectedRecords int64  `json:"expected_records"`
	Slices          int    `json:"slices"`
	Requests        int    `json:"requests"`
	Blind           bool   `json:"blind,omitempty"`
}

// estimate prices a plan whose reports are in: planned slices cost their
// pages, a blind track at least one request per window it will take, a
// report or advertiser request one, and ad-details one per ad the ads
// reports count (an upper bound: an ad shown in several countries is
// reported in each).
func estimate(f folder.Folder, store *checkpoint.Store, p *plan, slicePages int, reportsSent int, now time.Time) Estimate {
	ceiling := p.job.SliceAds
	if ceiling <= 0 {
		ceiling = DefaultCeiling
	}
	x := sliceCtx{f: f, store: store, pageSize: p.job.MaxCount, ceiling: ceiling, maxPages: slicePages, now: now}
	type key struct{ ds, country string }
	per := map[key]*CountryEstimate{}
	get := func(ds, c string) *CountryEstimate {
		k := key{ds, c}
		if per[k] == nil {
			per[k] = &CountryEstimate{Country: c}
		}
		return per[k]
	}
	est := Estimate{ReportRequests: reportsSent}
	queries := make([]QueryEstimate, len(p.job.Queries))
	queryAds := make([]int64, len(p.job.Queries))
	for i, q := range p.job.Queries {
		var ds []string
		for _, d := range p.job.Datasets {
			if p.job.Uses(q, d) || d == job.AdDetails || d == job.Media {
				ds = append(ds, d)
			}
		}
		queries[i] = QueryEstimate{Query: i + 1, Datasets: strings.Join(ds, ",")}
	}
	for _, tr := range p.tracks {
		shs, waiting, err := x.expandTrack(tr)
		c := get(tr.ds.name, tr.country)
		qe := &queries[tr.query]
		if err != nil || waiting {
			c.Blind, est.Blind, qe.Blind = true, true, true
			continue
		}
		for _, sh := range shs {
			c.Slices++
			if sh.Planned == "blind" {
				// Only the first window is known: the rest follow from
				// what it holds.
				c.Blind, est.Blind, qe.Blind = true, true, true
				c.Requests += blindWindows(tr)
				c.Slices += blindWindows(tr) - 1
				qe.Requests += blindWindows(tr)
				break
			}
			n := int(max(1, (sh.Expected+int64(p.job.MaxCount)-1)/int64(p.job.MaxCount)))
			c.ExpectedRecords += sh.Expected
			c.Requests += n
			qe.Requests += n
			if tr.ds == adsDataset {
				queryAds[tr.query] += sh.Expected
			}
		}
	}
	for _, sh := range p.reports {
		c := get(reportsDataset.name, sh.Partition)
		if p.planning[sh.ID] {
			c = get(planDataset, sh.Partition)
		}
		c.Slices++
		c.Requests++
		queries[p.queryOf[sh.ID]].Requests++
	}
	for _, sh := range p.fixed {
		c := get(sh.Dataset, sh.Partition)
		c.Slices++
		c.Requests++
		queries[p.queryOf[sh.ID]].Requests++
	}
	if p.job.Has(job.AdDetails) {
		var ads int64
		for k, c := range per {
			if k.ds == job.Ads {
				ads += c.ExpectedRecords
			}
		}
		c := get(job.AdDetails, "")
		c.ExpectedRecords, c.Requests, c.Slices = ads, int(ads), 1
		for i, n := range queryAds {
			queries[i].Requests += int(n)
		}
	}
	if len(queries) > 1 {
		est.Queries = queries
	}
	order := append([]string{planDataset}, job.KnownDatasets...)
	for _, ds := range order {
		var d *DatasetEstimate
		var keys []key
		for k := range per {
			if k.ds == ds {
				keys = append(keys, k)
			}
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i].country < keys[j].country })
		for _, k := range keys {
			c := per[k]
			if d == nil {
				d = &DatasetEstimate{Dataset: ds}
			}
			d.ExpectedRecords += c.ExpectedRecords
			d.Slices += c.Slices
			d.Requests += c.Requests
			if c.Blind {
				d.Bound = "at least"
			}
			if k.country != "" {
				d.Countries = append(d.Countries, *c)
			}
		}
		if d == nil {
			continue
		}
		if ds == job.AdDetails && d.Bound == "" {
			d.Bound = "at most"
		}
		est.Datasets = append(est.Datasets, *d)
		est.TotalRequests += d.Requests
	}
	return est
}

// blindWindows is how many first windows a blind track takes at least: one
// month at a time until it knows better.
func blindWindows(tr *track) int {
	days := int(tr.to.Sub(tr.from).Hours()/24) + 1
	return max(1, min(2, (days+blindFirstDays-1)/blindFirstDays))
}
