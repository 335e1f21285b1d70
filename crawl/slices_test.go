package crawl

import (
	"math/rand/v2"
	"testing"
)

// bruteCut is the cheapest cover found by trying every way to cut.
func bruteCut(counts []int64, pageSize, ceiling int) (pages, slices int64) {
	n := len(counts)
	bestP, bestS := int64(1<<62), int64(1<<62)
	for mask := 0; mask < 1<<(n-1); mask++ {
		var p, s, sum int64
		ok := true
		days := 0
		flush := func() {
			if days > 1 && sum > int64(ceiling) {
				ok = false
			}
			pg := (sum + int64(pageSize) - 1) / int64(pageSize)
			if sum == 0 {
				pg = 1
			}
			p, s, sum, days = p+pg, s+1, 0, 0
		}
		for i := 0; i < n; i++ {
			sum += counts[i]
			days++
			if i == n-1 || mask&(1<<i) != 0 {
				flush()
			}
		}
		if ok && (p < bestP || (p == bestP && s < bestS)) {
			bestP, bestS = p, s
		}
	}
	return bestP, bestS
}

func TestCutIsOptimal(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 400; trial++ {
		n := 1 + r.IntN(12)
		counts := make([]int64, n)
		for i := range counts {
			switch r.IntN(4) {
			case 0: // empty day
			case 1:
				counts[i] = int64(r.IntN(5))
			default:
				counts[i] = int64(r.IntN(90))
			}
		}
		ceiling := 60 + r.IntN(200)
		got := cut(counts, 10, ceiling, 0)
		var pages, total int64
		next := 0
		for _, s := range got {
			if s.from != next || s.to < s.from {
				t.Fatalf("%v: slices %v do not cover the days in order", counts, got)
			}
			next = s.to + 1
			var sum int64
			for d := s.from; d <= s.to; d++ {
				sum += counts[d]
			}
			if sum != s.ads || (s.to > s.from && sum > int64(ceiling)) {
				t.Fatalf("%v ceiling %d: slice %+v holds %d", counts, ceiling, s, sum)
			}
			total += sum
			pg := (sum + 9) / 10
			if sum == 0 {
				pg = 1
			}
			pages += pg
		}
		if next != n {
			t.Fatalf("%v: slices %v stop at day %d", counts, got, next)
		}
		wantP, wantS := bruteCut(counts, 10, ceiling)
		if pages != wantP || int64(len(got)) != wantS {
			t.Fatalf("%v ceiling %d: %d pages in %d slices, the best is %d in %d", counts, ceiling, pages, len(got), wantP, wantS)
		}
	}
}

func TestCutCases(t *testing.T) {
	for _, tc := range []struct {
		name    string
		counts  []int64
		ceiling int
		want    int // slices
	}{
		{"a year of nothing is one slice", make([]int64, 365), 2500, 1},
		{"a sparse year is one slice", func() []int64 { c := make([]int64, 365); c[3], c[200] = 4, 7; return c }(), 2500, 1},
		{"a day above the ceiling stands alone", []int64{10, 9000, 10}, 2500, 3},
		{"dense days split at the ceiling", []int64{1000, 1000, 1000, 1000}, 2500, 2},
	} {
		if got := cut(tc.counts, 50, tc.ceiling, 0); len(got) != tc.want {
			t.Errorf("%s: %d slices %v, want %d", tc.name, len(got), got, tc.want)
		}
	}
	// A daily quota of 10 pages keeps slices within 500 ads.
	for _, s := range cut([]int64{300, 300, 300, 300}, 50, 2500, 10) {
		if s.ads > 500 {
			t.Errorf("slice %+v holds more than 10 pages", s)
		}
	}
}
