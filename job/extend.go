package job

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"adharvest/countries"
	"adharvest/tiktok/api"
)

// Extending a job in place.
//
// A folder holds one job. A later command may ask for more of it: a later
// last day (a nightly run), more countries or terms for a query, more
// datasets, more queries. Extend merges such a job into the stored one, so
// the folder keeps what it holds and fetches only the new work. What an
// existing query filters on (search type, advertiser ids, reach, creators)
// or how the job is cut (window, slice size, page size) cannot change in
// place: the slices already fetched would not answer the new question, so
// Extend refuses with an *ExtendError, and the user chooses --restart.
//
// Dates are extended by segments (see Query.Segments): the days a query
// gains are planned as a range of their own, so that the plan of the days it
// held, which was cut from the reports of that range, stays as it was and
// its finished slices keep their ids.

// ExtendError says why a job cannot extend the stored one: what differs,
// and how (Query is 1-based, 0 for the job as a whole).
type ExtendError struct {
	Query  int
	What   string
	Stored string
	Asked  string
}

func (e *ExtendError) Error() string {
	s := fmt.Sprintf("%s is %s in the stored job, %s in this one", e.What, e.Stored, e.Asked)
	if e.Query > 0 {
		s = fmt.Sprintf("query %d: %s", e.Query, s)
	}
	return s
}

// Spans are the date ranges a dated query is planned in: its segments, or
// one segment of its whole range; none for an undated query (advertisers).
func (q Query) Spans() []Segment {
	if q.From == "" || q.To == "" {
		return nil
	}
	if len(q.Segments) == 0 {
		return []Segment{{From: q.From, To: q.To}}
	}
	return q.Segments
}

// Pin records, for every dated query planned as one range so far, the first
// day still provisional at this run (provisionalFrom), when its range reaches
// it: a later run then cuts the range where this one did, although its own
// provisional days have moved on. A query whose days are all final needs no
// record (any later run finds them final too).
func (j *Job) Pin(provisionalFrom time.Time) {
	cut := provisionalFrom.Format("2006-01-02")
	for i := range j.Queries {
		q := &j.Queries[i]
		if len(q.Segments) == 0 && q.From != "" && q.To >= cut {
			q.Segments = []Segment{{From: q.From, To: q.To, ProvisionalFrom: cut}}
		}
	}
}

// Unpinned is the job with its segments forgotten: one range per query, for
// a start afresh (--restart), which plans every day anew.
func (j Job) Unpinned() Job {
	out := j
	out.Queries = slices.Clone(j.Queries)
	for i := range out.Queries {
		out.Queries[i].Segments = nil
	}
	return out
}

// Rolled is the job with the last day of every query asked as "yesterday"
// moved to the day before today (UTC), when that is later; the segments are
// left for Extend to add. ok is false when nothing moves.
func (j Job) Rolled(today time.Time) (Job, bool) {
	out := j
	out.Queries = slices.Clone(j.Queries)
	y := today.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1).Format("2006-01-02")
	moved := false
	for i := range out.Queries {
		q := &out.Queries[i]
		if q.ToWord != "" && q.To != "" && y > q.To {
			q.Segments = slices.Clone(q.Segments)
			q.To, moved = y, true
		}
	}
	return out, moved
}

// WithTo is the job with every dated query's last day set to to (a date or
// yesterday), for `harvest --out DIR --to DAY` on a stored job; the result
// is to be normalized, then merged with Extend.
func (j Job) WithTo(to string) Job {
	out := j
	out.Queries = slices.Clone(j.Queries)
	for i := range out.Queries {
		q := &out.Queries[i]
		if q.From != "" {
			q.To, q.ToWord = to, ""
		}
	}
	return out
}

// Extend merges next, a normalized job, into prev, the folder's normalized
// job. The i-th query of next extends the i-th of prev: it may add countries
// and terms, and move the dates out (earlier from, later to: the days gained
// become new segments, whose provisional days start at provisionalFrom);
// queries beyond prev's are added, and datasets are the union. A next that
// asks nothing prev does not hold leaves prev as it is (changed is false): a
// resume. It refuses with an *ExtendError a change that cannot be made in
// place. The last day asked as a word (yesterday) keeps rolling only while
// the command that extends the job says it.
func Extend(prev, next Job, provisionalFrom time.Time) (merged Job, changed bool, err error) {
	for _, c := range []struct {
		what          string
		stored, asked int
	}{
		{"the window (days)", prev.WindowDays, next.WindowDays},
		{"the slice size (ads)", prev.SliceAds, next.SliceAds},
		{"the page size (max_count)", prev.MaxCount, next.MaxCount},
	} {
		if c.stored != c.asked {
			return prev, false, &ExtendError{What: c.what, Stored: windowText(c.what, c.stored), Asked: windowText(c.what, c.asked)}
		}
	}
	merged = prev
	merged.Datasets = slices.Clone(prev.Datasets)
	for _, d := range next.Datasets {
		if !slices.Contains(merged.Datasets, d) {
			merged.Datasets = append(merged.Datasets, d)
		}
	}
	slices.SortFunc(merged.Datasets, func(a, b string) int { return slices.Index(KnownDatasets, a) - slices.Index(KnownDatasets, b) })
	if len(prev.Default) > 0 || len(next.Default) > 0 {
		// What the queries without datasets of their own fetch.
		pd, nd := prev.Default, next.Default
		if len(pd) == 0 {
			pd = prev.Datasets
		}
		if len(nd) == 0 {
			nd = next.Datasets
		}
		merged.Default = union(pd, nd)
		slices.SortFunc(merged.Default, func(a, b string) int { return slices.Index(KnownDatasets, a) - slices.Index(KnownDatasets, b) })
	}
	merged.Queries = slices.Clone(prev.Queries)
	cut := provisionalFrom.Format("2006-01-02")
	for i, n := range next.Queries {
		if i >= len(prev.Queries) {
			if !slices.ContainsFunc(merged.Queries, func(o Query) bool { return sameFilters(o, n) && covers(o, n) }) {
				merged.Queries = append(merged.Queries, n)
			}
			continue
		}
		q, err := extendQuery(prev.Queries[i], n, cut)
		if err != nil {
			if len(prev.Queries) > 1 || len(next.Queries) > 1 {
				err.Query = i + 1 // a job of one query needs no number
			}
			return prev, false, err
		}
		merged.Queries[i] = q
	}
	return merged, !equalJSON(prev, merged), nil
}

func windowText(what string, n int) string {
	if n == 0 {
		switch what {
		case "the window (days)":
			return "planned from ad/report"
		case "the slice size (ads)":
			return fmt.Sprintf("the default (%d)", DefaultSliceAds)
		}
	}
	return fmt.Sprint(n)
}

// extendQuery merges n into p, the stored query at the same place.
func extendQuery(p, n Query, cut string) (Query, *ExtendError) {
	for _, c := range []struct{ what, stored, asked string }{
		{"the search type", orDefault(p.SearchType, api.SearchExact), orDefault(n.SearchType, api.SearchExact)},
		{"the advertiser ids", listText(p.AdvertiserIDs), listText(n.AdvertiserIDs)},
		{"the creator usernames", listText(p.CreatorUsernames), listText(n.CreatorUsernames)},
		{"the minimum reach", orDefault(p.ReachMin, "none"), orDefault(n.ReachMin, "none")},
		{"the maximum reach", orDefault(p.ReachMax, "none"), orDefault(n.ReachMax, "none")},
	} {
		if c.stored != c.asked {
			return p, &ExtendError{What: c.what, Stored: c.stored, Asked: c.asked}
		}
	}
	pAll := slices.Equal(p.Countries, []string{countries.AllCode})
	nAll := slices.Equal(n.Countries, []string{countries.AllCode})
	if pAll != nAll && len(n.Countries) > 0 && len(p.Countries) > 0 {
		return p, &ExtendError{What: "the countries", Stored: strings.Join(p.Countries, ","), Asked: strings.Join(n.Countries, ",") + " (ALL asks every country at once, a list asks each country apart)"}
	}
	if (p.From == "") != (n.From == "") {
		return p, &ExtendError{What: "the date range", Stored: rangeText(p), Asked: rangeText(n)}
	}
	out := p
	if len(p.Datasets) > 0 && len(n.Datasets) > 0 {
		// A query that names its datasets may name more of them; one that
		// names none goes on fetching the job's.
		out.Datasets = union(p.Datasets, n.Datasets)
		slices.SortFunc(out.Datasets, func(a, b string) int { return slices.Index(KnownDatasets, a) - slices.Index(KnownDatasets, b) })
	}
	out.Countries = union(p.Countries, n.Countries)
	out.Terms = union(p.Terms, n.Terms)
	if p.From == "" {
		return out, nil
	}
	spans := slices.Clone(p.Spans())
	if n.From < p.From {
		spans = append([]Segment{segment(n.From, dayBefore(p.From), cut)}, spans...)
		out.From = n.From
	}
	if n.To > p.To {
		spans = append(spans, segment(dayAfter(p.To), n.To, cut))
		out.To = n.To
	}
	if len(spans) > 1 || len(p.Segments) > 0 {
		out.Segments = spans
	}
	switch {
	case n.ToWord != "":
		out.ToWord = n.ToWord
	case n.To >= p.To:
		out.ToWord = "" // the command fixed the last day
	}
	return out, nil
}

// segment is a range gained by an extension, with its provisional days
// recorded when it holds any.
func segment(from, to, cut string) Segment {
	s := Segment{From: from, To: to}
	if to >= cut {
		s.ProvisionalFrom = cut
	}
	return s
}

// sameFilters reports whether two queries filter alike (countries, terms and
// dates aside).
func sameFilters(a, b Query) bool {
	return a.SearchType == b.SearchType && slices.Equal(a.AdvertiserIDs, b.AdvertiserIDs) &&
		slices.Equal(a.CreatorUsernames, b.CreatorUsernames) && a.ReachMin == b.ReachMin && a.ReachMax == b.ReachMax
}

// covers reports whether query a asks at least everything b does.
func covers(a, b Query) bool {
	for _, c := range b.Countries {
		if !slices.Contains(a.Countries, c) {
			return false
		}
	}
	for _, t := range b.Terms {
		if !slices.Contains(a.Terms, t) {
			return false
		}
	}
	return a.From <= b.From && a.To >= b.To
}

func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, s := range b {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	if len(out) == 0 {
		return a
	}
	return out
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func listText[T any](l []T) string {
	if len(l) == 0 {
		return "none"
	}
	var parts []string
	for _, v := range l {
		parts = append(parts, fmt.Sprint(v))
	}
	return strings.Join(parts, ",")
}

func rangeText(q Query) string {
	if q.From == "" {
		return "none"
	}
	return q.From + " to " + q.To
}

func dayAfter(s string) string {
	d, _ := api.ParseDay(s)
	return d.AddDate(0, 0, 1).Format("2006-01-02")
}

func dayBefore(s string) string {
	d, _ := api.ParseDay(s)
	return d.AddDate(0, 0, -1).Format("2006-01-02")
}
