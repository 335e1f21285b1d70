package crawl

import (
	"time"

	"adharvest/checkpoint"
	"adharvest/countries"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/tiktok/api"
)

// Planning: ad/report first, then slices where the ads are.
//
// A job's work comes in two steps. First its report requests: the ad-reports
// dataset's, one per query and country over the query's whole date range
// (not per week), and, for ads that no report of the job counts, one
// planning report per query and advertiser filter, asked for ALL countries at
// once. Then, once their answers are in, each track (one search of ad/query:
// a query's term or filter in one country) is cut into slices of whole days
// from the daily counts, as long as possible under the slice ceiling
// (slices.go). A track that no report can count (a search term, a reach
// filter, commercial content, which has no report endpoint, or a report that
// came back empty or failed) is sliced blind: window after window, each sized
// from the density the previous one showed.
//
// The plan is a function of the job and of the report answers, which the
// checkpoint keeps (as the report shards' parts and raw twins), so every run
// of a folder cuts the same slices, and a slice finished by an earlier run is
// never fetched again. A query is planned segment by segment (see
// job.Query.Segments): the range of its first harvest and each range a later
// run extended it by have reports and tracks of their own, so extending a
// job leaves the plan of what it held as it was; and each segment records
// where its provisional days began when it was first planned, so that the
// days before keep the slices they were cut into while the clock moves on. What a run learns beyond the answers is kept in the
// slices' own records: a short slice queried again as two halves, a slice cut
// smaller after its search_id died.

// A track is one search that date ranges cut into slices: a variant of a
// query in one country (ad/query) or one creator country
// (commercial_content/query). shard(w) is its slice over w.
type track struct {
	ds      *dataset
	q       job.Query
	query   int    // the query's place in the job (0-based)
	term    string // the search term of an ads track, "" for none
	country string
	from    time.Time
	to      time.Time
	shard   func(w job.Window) *Shard
	// report is the id of the report shard whose answer counts this
	// track's results per day (in its country's series), and exact tells
	// whether it counts exactly what the track's query returns (a query
	// with advertiser ids is counted exactly; ALL is counted once per
	// country an ad is shown in, so only as an upper bound). "" is no
	// report: the track is sliced blind.
	report string
	exact  bool
	// cut is the first provisional day its segment recorded (see
	// job.Segment), zero when none was: then the clock decides.
	cut time.Time
}

// cutAt is the track's provisional boundary at now: the one its segment
// recorded when it was first planned, so that every later run cuts the
// same slices, or else the clock's.
func (tr *track) cutAt(now time.Time) time.Time {
	if !tr.cut.IsZero() {
		return tr.cut
	}
	return provisionalFrom(now)
}

// spanQuery is a query over one of its segments, with the segment's
// recorded provisional boundary (zero when none).
type spanQuery struct {
	q   job.Query
	cut time.Time
	// index is the query's place in the job (0-based).
	index int
}

// spanQueries are a job's queries, each once per segment: the unit the
// planner plans (see job.Query.Segments). An undated query is itself.
func spanQueries(j job.Job) []spanQuery {
	var out []spanQuery
	for i, q := range j.Queries {
		spans := q.Spans()
		if len(spans) == 0 {
			out = append(out, spanQuery{q: q, index: i})
			continue
		}
		for _, sp := range spans {
			qs := q
			qs.From, qs.To, qs.Segments = sp.From, sp.To, nil
			out = append(out, spanQuery{q: qs, cut: dayOf(sp.ProvisionalFrom), index: i})
		}
	}
	return out
}

// plan is what a job asks, as work: the report shards, the shards known up
// front (advertisers; every shard of a job with fixed windows), and the
// tracks to slice.
type plan struct {
	job     job.Job
	reports []*Shard
	fixed   []*Shard
	tracks  []*track
	// planning lists the report shards that only the planner asked for; they
	// write no ad_reports rows.
	planning map[string]bool
	// queryOf is the query (0-based) that first asked for each report and
	// fixed shard, for the cost per query (a shard two queries share is
	// counted once, under the first).
	queryOf map[string]int
}

// Plan returns the shards a job is known to need before any answer: its
// report shards, and every shard of a job with fixed windows. The slices of
// planned tracks come from the answers (see (*plan).slices).
func Plan(j job.Job) []*Shard {
	p := newPlan(j)
	return append(append([]*Shard(nil), p.reports...), p.fixed...)
}

// newPlan lays out a normalized job's work.
func newPlan(j job.Job) *plan {
	p := &plan{job: j, planning: map[string]bool{}, queryOf: map[string]int{}}
	seen := map[string]bool{}
	index := 0 // the query being planned
	add := func(list *[]*Shard, shs ...*Shard) {
		for _, sh := range shs {
			if !seen[sh.ID] {
				seen[sh.ID] = true
				p.queryOf[sh.ID] = index
				*list = append(*list, sh)
			}
		}
	}
	fixed := j.WindowDays > 0
	for _, d := range j.Datasets {
		for _, sq := range spanQueries(j) {
			q, cut := sq.q, sq.cut
			index = sq.index
			if !j.Uses(q, d) {
				continue // the query names its own datasets, and not this one
			}
			switch d {
			case job.AdReports:
				for _, w := range q.Windows(j.WindowDays) {
					for _, c := range reportCountries(q) {
						q, c := q, c
						add(&p.reports, selfTracked(func(w job.Window) *Shard { return reportShard(q, c, w) })(w))
					}
				}
			case job.Ads:
				for _, v := range adVariants(q) {
					for _, c := range q.Countries {
						if fixed {
							for _, w := range q.Windows(j.WindowDays) {
								add(&p.fixed, adsShard(j, q, v, c, w))
							}
							continue
						}
						q, v, c := q, v, c
						p.tracks = append(p.tracks, &track{ds: adsDataset, q: q, query: sq.index, term: v.term, country: c, from: dayOf(q.From), to: dayOf(q.To), cut: cut,
							shard: selfTracked(func(w job.Window) *Shard { return adsShard(j, q, v, c, w) })})
					}
				}
			case job.CommercialContent:
				cs, _ := countries.Split(q.Countries, countries.ScopeCommercial)
				for _, c := range cs {
					if fixed {
						for _, w := range q.Windows(j.WindowDays) {
							add(&p.fixed, contentShard(j, q, c, w))
						}
						continue
					}
					q, c := q, c
					p.tracks = append(p.tracks, &track{ds: contentDataset, q: q, query: sq.index, country: c, from: dayOf(q.From), to: dayOf(q.To), cut: cut,
						shard: selfTracked(func(w job.Window) *Shard { return contentShard(j, q, c, w) })})
				}
			case job.Advertisers:
				add(&p.fixed, planAdvertisers(j, q)...)
			}
		}
	}
	if !fixed {
		p.assignReports(seen)
	}
	return p
}

// assignReports gives every ads track the report that counts it: the
// dataset's report for its country (or for ALL) over its query's range with
// its advertiser ids, or else one planning report per query and filter,
// asked for ALL countries. Tracks with a search term, or a reach filter,
// have none: ad/report cannot filter by either.
func (p *plan) assignReports(seen map[string]bool) {
	for _, tr := range p.tracks {
		q := tr.q
		if tr.ds != adsDataset || tr.term != "" || q.ReachMin != "" || q.ReachMax != "" {
			continue
		}
		w := job.Window{From: tr.from, To: tr.to}
		// The dataset's own report for this country, or for ALL.
		for _, c := range []string{tr.country, countries.AllCode} {
			if id := reportShard(q, c, w).ID; seen[id] {
				tr.report, tr.exact = id, c == tr.country && c != countries.AllCode
				break
			}
		}
		if tr.report != "" {
			continue
		}
		// A planning report, shared by every track of this query's range
		// and advertiser filter.
		rs := selfTracked(func(w job.Window) *Shard { return planningReport(q, w) })(w)
		if !seen[rs.ID] {
			seen[rs.ID] = true
			p.queryOf[rs.ID] = tr.query
			p.reports = append(p.reports, rs)
			p.planning[rs.ID] = true
		}
		tr.report, tr.exact = rs.ID, tr.country != countries.AllCode
	}
}

func dayOf(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, _ := api.ParseDay(s)
	return t
}

// provisionalFrom is the first day of a range that is still provisional at
// now: slices never straddle it, so that the next run harvests again only the
// recent days.
func provisionalFrom(now time.Time) time.Time {
	today := now.UTC().Truncate(24 * time.Hour)
	return today.AddDate(0, 0, -ProvisionalDays)
}

// reportSlices cuts a track from its report's daily counts. The days before
// the provisional boundary are cut as cheaply as the counts allow; the days
// from it on are one slice each. They are fetched again by every run until
// they are final, and their counts still grow, so a slice cut from them would
// change from run to run, leaving the slices of the last run behind; a day
// is the same slice whatever it holds.
func (tr *track) reportSlices(counts map[string]int64, pageSize, ceiling, maxPages int, now time.Time) []plannedSlice {
	cutAt := tr.cutAt(now)
	if tr.to.Before(cutAt) {
		return cutRange(tr.from, tr.to, counts, pageSize, ceiling, maxPages)
	}
	var out []plannedSlice
	if tr.from.Before(cutAt) {
		out = cutRange(tr.from, cutAt.AddDate(0, 0, -1), counts, pageSize, ceiling, maxPages)
	}
	for _, d := range daysOf(maxTime(tr.from, cutAt), tr.to) {
		out = append(out, plannedSlice{Window: job.Window{From: d, To: d}, Expected: counts[d.Format("20060102")]})
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Blind slicing, for tracks no report counts.
const (
	// blindFirstDays is the first window of a blind track: a month, which a
	// search term or a country's commercial content rarely fills past the
	// ceiling.
	blindFirstDays = 31
	// blindFill is the share of the ceiling a blind window aims at: the
	// density of the last window is only a guess for the next.
	blindFill = 0.6
)

// nextBlind is the window after prev (which held rows) on a track ending at
// to: as long as the density prev showed lets it hold about blindFill of the
// ceiling, at most eight times prev's length and at least an eighth of it,
// never crossing the provisional boundary cut or the track's end; from the
// boundary on, one day (as reportSlices cuts them). ok is false when the
// track is done.
func nextBlind(prev job.Window, rows int64, to time.Time, ceiling int, cut time.Time) (job.Window, bool) {
	from := prev.To.AddDate(0, 0, 1)
	if from.After(to) {
		return job.Window{}, false
	}
	days := int(prev.To.Sub(prev.From).Hours()/24) + 1
	next := days * 8
	if rows > 0 {
		next = int(float64(days) * blindFill * float64(ceiling) / float64(rows))
		next = min(max(next, days/8, 1), days*8)
	}
	return blindWindow(from, next, to, cut), true
}

// firstBlind is a blind track's first window.
func firstBlind(from, to time.Time, cut time.Time) job.Window {
	return blindWindow(from, blindFirstDays, to, cut)
}

func blindWindow(from time.Time, days int, to, cut time.Time) job.Window {
	if !from.Before(cut) {
		return job.Window{From: from, To: from}
	}
	end := from.AddDate(0, 0, max(days, 1)-1)
	if end.After(to) {
		end = to
	}
	if !end.Before(cut) {
		end = cut.AddDate(0, 0, -1)
	}
	return job.Window{From: from, To: end}
}

// halves splits a slice's window at the day where its expected ads reach
// half, for a short slice queried again: two shorter chains of search_ids
// from which the live service, which is known to end paging early on long
// ones, returns more. ok is false for a one-day window.
func halves(w job.Window, counts map[string]int64) (a, b plannedSlice, ok bool) {
	days := daysOf(w.From, w.To)
	if len(days) < 2 {
		return a, b, false
	}
	var total int64
	for _, d := range days {
		total += counts[d.Format("20060102")]
	}
	split, acc := len(days)/2, int64(0)
	if total > 0 {
		for i, d := range days[:len(days)-1] {
			acc += counts[d.Format("20060102")]
			if acc*2 >= total {
				split = i + 1
				break
			}
		}
	}
	a = plannedSlice{Window: job.Window{From: days[0], To: days[split-1]}}
	b = plannedSlice{Window: job.Window{From: days[split], To: days[len(days)-1]}}
	for _, d := range days {
		if d.Before(b.From) {
			a.Expected += counts[d.Format("20060102")]
		} else {
			b.Expected += counts[d.Format("20060102")]
		}
	}
	return a, b, true
}

// reportAnswer reads a done report shard's answer back from its raw twins:
// ads per country and day ("YYYYMMDD"). usable is false for an answer with no
// series at all (the live service was seen to answer so for ranges that hold
// ads), which a planner must not take for "no ads".
func reportAnswer(f folder.Folder, store *checkpoint.Store, id string) (counts map[string]map[string]int64, usable, ok bool) {
	st, known, err := store.Shard(id)
	if err != nil || !known {
		return nil, false, false
	}
	if len(st.Split) > 0 {
		// Refused as too long, and asked again in parts: their union.
		counts = map[string]map[string]int64{}
		for _, child := range st.Split {
			part, use, done := reportAnswer(f, store, child)
			if !done {
				return nil, false, false
			}
			usable = usable || use
			for c, days := range part {
				if counts[c] == nil {
					counts[c] = map[string]int64{}
				}
				for d, n := range days {
					counts[c][d] = n
				}
			}
		}
		return counts, usable, true
	}
	if st.Status != checkpoint.StatusDone {
		return nil, false, false
	}
	sh, okID := shardOfID(id)
	if !okID {
		return nil, false, false
	}
	counts = map[string]map[string]int64{}
	for n := 0; n < st.Parts; n++ {
		pages, err := readRaw(sh.rawPath(f, n))
		if err != nil {
			return nil, false, false
		}
		for _, pg := range pages {
			env, err := api.DecodeEnvelope(pg.Body)
			if err != nil {
				continue
			}
			d, err := api.DecodeAdReport(env.Data)
			if err != nil {
				continue
			}
			for c, series := range d.Series {
				if counts[c] == nil {
					counts[c] = map[string]int64{}
				}
				for _, dc := range series {
					if dc.Date.Valid && dc.Count.Valid {
						counts[c][dc.Date.T.Format("20060102")] = dc.Count.V
					}
				}
			}
		}
	}
	return counts, len(counts) > 0, true
}

// countsFor picks a track's series out of a report answer: its own country's,
// or, for an ALL track, every country's summed (an ad shown in several
// countries is counted in each, so this is an upper bound).
func countsFor(answer map[string]map[string]int64, country string) map[string]int64 {
	if country != countries.AllCode {
		if c, ok := answer[country]; ok {
			return c
		}
		return map[string]int64{}
	}
	sum := map[string]int64{}
	for _, days := range answer {
		for d, n := range days {
			sum[d] += n
		}
	}
	return sum
}

// planDataset is the dataset name of the reports only the planner asked for,
// so that their requests are counted apart from the job's datasets.
const planDataset = "plan"

// selfTracked makes every slice of a track know how to make the track's
// other slices (a narrowed slice's successor, for one).
func selfTracked(mk func(job.Window) *Shard) func(job.Window) *Shard {
	var f func(job.Window) *Shard
	f = func(w job.Window) *Shard {
		sh := mk(w)
		sh.track = f
		return sh
	}
	return f
}

// planningReport is the report the planner asks for a query's ads over w
// that no report of the job counts: every country at once, written to no
// table.
func planningReport(q job.Query, w job.Window) *Shard {
	rs := reportShard(q, countries.AllCode, w)
	rs.Stem += "_plan"
	rs.ID = shardID(rs.ds.table, rs.Partition, rs.Stem)
	rs.plan, rs.Dataset = true, planDataset
	return rs
}
