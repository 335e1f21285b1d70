package crawl

import (
	"time"

	"adharvest/job"
)

// Slicing a country's date range for ad/query.
//
// A slice is a range of whole days queried as one search_id chain. Its cost
// is its pages, ceil(n/max_count) for n ads (at least one: an empty slice
// still costs the request that finds it empty). Fewer, longer slices cost
// less, since every slice boundary can leave a page half full; but a slice is
// also what a lost search_id throws away, so no slice may hold more than a
// ceiling of ads (50 pages by default), unless a single day holds more.
//
// cut finds, from the ads ad/report counts per day, the slices of whole days
// that cost the fewest pages under the ceiling, and among those the fewest
// slices, by dynamic programming over the days: best[i] is the cheapest
// cover of days 0..i-1, and a slice j..i-1 is tried for every j whose days
// hold at most the ceiling. Empty and sparse stretches cost nothing extra
// when merged into a neighbour, so they are.

// DefaultCeiling is the most ads a planned slice may hold: 50 pages of 50,
// what a search_id lost at the end of a slice may cost.
const DefaultCeiling = 2500

// daySpan is one slice: days [from, to] of the range (indexes), and the ads
// the report counts in it.
type daySpan struct {
	from, to int
	ads      int64
}

// cut splits counts (ads per day, in day order) into slices of at most
// ceiling ads (a day with more is a slice of its own), each costing
// max(1, ceil(ads/pageSize)) pages, with the fewest pages and then the fewest
// slices. maxPages, when above 0, bounds a slice's pages too (the daily
// quota), as far as whole days allow.
func cut(counts []int64, pageSize, ceiling, maxPages int) []daySpan {
	n := len(counts)
	if n == 0 {
		return nil
	}
	if pageSize < 1 {
		pageSize = 50
	}
	limit := int64(ceiling)
	if maxPages > 0 && int64(maxPages*pageSize) < limit {
		limit = int64(maxPages * pageSize)
	}
	if limit < 1 {
		limit = 1
	}
	pages := func(ads int64) int64 {
		if ads <= 0 {
			return 1
		}
		return (ads + int64(pageSize) - 1) / int64(pageSize)
	}
	type cost struct{ pages, slices int64 }
	less := func(a, b cost) bool { return a.pages < b.pages || (a.pages == b.pages && a.slices < b.slices) }
	best := make([]cost, n+1)
	from := make([]int, n+1)
	for i := 1; i <= n; i++ {
		best[i] = cost{pages: 1 << 62}
		var sum int64
		for j := i - 1; j >= 0; j-- {
			sum += counts[j]
			if sum > limit && j < i-1 {
				break // a longer slice only holds more
			}
			c := cost{best[j].pages + pages(sum), best[j].slices + 1}
			if less(c, best[i]) {
				best[i], from[i] = c, j
			}
		}
	}
	var out []daySpan
	for i := n; i > 0; i = from[i] {
		j := from[i]
		var sum int64
		for d := j; d < i; d++ {
			sum += counts[d]
		}
		out = append(out, daySpan{from: j, to: i - 1, ads: sum})
	}
	for l, r := 0, len(out)-1; l < r; l, r = l+1, r-1 {
		out[l], out[r] = out[r], out[l]
	}
	return out
}

// daysOf lists the days of [from, to], inclusive.
func daysOf(from, to time.Time) []time.Time {
	var out []time.Time
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, d)
	}
	return out
}

// cutRange is cut over a range of dates: counts maps "YYYYMMDD" to ads.
func cutRange(from, to time.Time, counts map[string]int64, pageSize, ceiling, maxPages int) []plannedSlice {
	days := daysOf(from, to)
	c := make([]int64, len(days))
	for i, d := range days {
		c[i] = counts[d.Format("20060102")]
	}
	var out []plannedSlice
	for _, s := range cut(c, pageSize, ceiling, maxPages) {
		out = append(out, plannedSlice{Window: job.Window{From: days[s.from], To: days[s.to]}, Expected: s.ads})
	}
	return out
}

// plannedSlice is a window with the ads the report counts in it (-1 when no
// report says).
type plannedSlice struct {
	job.Window
	Expected int64
}
