package apitest

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// ShortPaging reproduces the live service ending pagination early
// (Options.ShortPaging): when an ad/query result set holds more than Above
// items, has_more turns false after a fraction of them, as if the set were
// complete. The fraction is drawn per query (filters, term and range) between
// MinFraction and MaxFraction, so the same query is always cut at the same
// place, and re-querying the same slice does not help.
//
// Smaller queries are complete. A harvester that compares a slice's count
// with ad/report and re-queries a short slice as two halves of its date range
// therefore heals it exactly when each half holds at most Above items; a
// single day with more than Above items cannot be healed and should be
// flagged. Universe.Paging says, for any query, whether it is cut and how
// many items it serves.
type ShortPaging struct {
	// Above is the size beyond which a result set is cut; 0 means 1000.
	Above int
	// MinFraction and MaxFraction bound the share served; both 0 mean
	// 0.4 and 0.8.
	MinFraction, MaxFraction float64
}

// PagingTruth is what a complete paging of one ad/query returns.
type PagingTruth struct {
	// Total is the number of ads the query selects (visible at now).
	Total int
	// Served is how many of them a complete paging returns: the first
	// Served of AdIDsAsOf, in paging order.
	Served int
	// Cut is Served < Total.
	Cut bool
}

// normalizeAdQuery puts q in the form the server uses for its cache and
// search_id keys, so that the universe and the server agree on a query's
// identity (and thus on where ShortPaging cuts it).
func normalizeAdQuery(q AdQuery) AdQuery {
	q.Country = strings.ToUpper(strings.TrimSpace(q.Country))
	if q.Country == "" {
		q.Country = "ALL"
	}
	q.SearchType = strings.ToLower(q.SearchType)
	if q.SearchType == "" {
		q.SearchType = "exact_phrase"
	}
	if q.Term != "" {
		q.AdvertiserIDs = nil
	}
	return q
}

// served is how many of n items a complete paging of q returns.
func (u *Universe) served(q AdQuery, n int) int {
	sp := u.short
	if sp == nil {
		return n
	}
	above := sp.Above
	if above <= 0 {
		above = 1000
	}
	if n <= above {
		return n
	}
	lo, hi := sp.MinFraction, sp.MaxFraction
	if lo == 0 && hi == 0 {
		lo, hi = 0.4, 0.8
	}
	hi = max(hi, lo)
	f := lo + (hi-lo)*unitFloat(u.hash(tagShort, adQueryKey(normalizeAdQuery(q)), 0, 0))
	return min(n, max(0, int(float64(n)*f)))
}

// Paging says whether a complete paging of q would be cut short when
// Options.Now() is now (a zero now: every ad, as without a Lifecycle).
func (u *Universe) Paging(q AdQuery, now time.Time) PagingTruth {
	n := len(u.matchAdsAt(q, now))
	s := u.served(q, n)
	return PagingTruth{Total: n, Served: s, Cut: s < n}
}

// ServedAdIDs are the ids a complete paging of q returns at now, ShortPaging
// included (EndlessTerm and faults aside).
func (u *Universe) ServedAdIDs(q AdQuery, now time.Time) []int64 {
	ids := u.AdIDsAsOf(q, now)
	return ids[:u.served(q, len(ids))]
}

// ReportFailures make ad/report useless for planning (Options.ReportFailures),
// as the live service was seen to be: some filter sets are answered with an
// empty count_time_series_by_country, others with 500 internal_error. The
// choice is deterministic per filter set (country, range, advertiser ids), so
// retrying does not help and the harvester has to plan blind. Server.
// ReportOutcome says what a filter set gets.
type ReportFailures struct {
	// Empty is the share of filter sets answered 200 with no series.
	Empty float64
	// Err500 is the share answered 500 internal_error.
	Err500 float64
}

// Report outcomes, as Server.ReportOutcome returns them and Request.Fault
// records them ("report_empty", "report_500").
const (
	ReportOK    = "ok"
	ReportEmpty = "empty"
	Report500   = "500"
)

func reportKey(country string, from, to time.Time, ids []int64) uint64 {
	c := strings.ToUpper(strings.TrimSpace(country))
	if c == "" {
		c = "ALL"
	}
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var b strings.Builder
	for _, id := range sorted {
		b.WriteString(strconv.FormatInt(id, 10))
		b.WriteByte(',')
	}
	return hashString("ad/report", c, DateString(from), DateString(to), b.String())
}

// ReportOutcome is what ad/report answers for a valid filter set under
// Options.ReportFailures: ReportOK, ReportEmpty or Report500.
func (s *Server) ReportOutcome(country string, from, to time.Time, advertiserIDs []int64) string {
	f := s.opts.ReportFailures
	if f.Empty <= 0 && f.Err500 <= 0 {
		return ReportOK
	}
	x := unitFloat(s.u.hash(tagReportFail, reportKey(country, from, to, advertiserIDs), 0, 0))
	switch {
	case x < f.Err500:
		return Report500
	case x < f.Err500+f.Empty:
		return ReportEmpty
	}
	return ReportOK
}
