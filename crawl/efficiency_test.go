package crawl_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/tiktok/apitest"
)

// costOf harvests j from a fresh fake with opts and returns the data
// requests the server received, the true minimum of the job, and the folder.
func costOf(t *testing.T, opts apitest.Options, j job.Job, tune func(*crawl.Options)) (sent int, min apitest.MinimumCost, dir string) {
	t.Helper()
	srv := testkit.StartAPI(t, opts)
	dir = t.TempDir()
	o := testkit.Options(srv, dir, &j)
	o.Concurrency = 8
	if tune != nil {
		tune(&o)
	}
	res, err := crawl.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return srv.Stats().DataRequests, testkit.Minimum(srv.Universe(), res.Job), dir
}

// The planner spends within 1% of the true minimum on a year of every EEA
// country with realistic volumes: Germany and France hundreds of times
// Liechtenstein, surges before elections, quiet weeks. (scripts/bench.sh
// measures fixed 7-day windows, the behaviour before planning, alongside.)
func TestSpendNearTheMinimumOnASkewedYear(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a year of the EEA")
	}
	opts := apitest.Realistic(60_000)
	mk := func(window int) job.Job {
		return job.Job{Datasets: []string{job.Ads, job.AdReports}, WindowDays: window,
			Queries: []job.Query{{Countries: []string{"EEA"}, From: "2023-01-01", To: "2023-12-31"}}}
	}
	sent, min, dir := costOf(t, opts, mk(0), nil)
	ratio := float64(sent) / float64(min.Total)
	t.Logf("planned: %d requests, true minimum %d (%d ads): %.3f×", sent, min.Total, min.DistinctAds, ratio)
	if ratio > 1.01 {
		t.Errorf("%d requests against a true minimum of %d: %.3f×, want at most 1.01×", sent, min.Total, ratio)
	}
	// Exactly every ad.
	srv := testkit.StartAPI(t, opts)
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), mustCountries(t, "EEA"), "2023-01-01", "2023-12-31", ""), testkit.HarvestedAds(t, dir))
}

// The small job of the issue: three countries, a quarter, four datasets.
func TestSpendNearTheMinimumOnAQuarter(t *testing.T) {
	t.Parallel()
	j := job.Job{Datasets: []string{job.Ads, job.AdDetails, job.AdReports, job.CommercialContent},
		Queries: []job.Query{{Countries: []string{"FR", "DE", "IT"}, From: "2023-01-01", To: "2023-03-31"}}}
	opts := apitest.Options{Quirks: true}
	sent, min, _ := costOf(t, opts, j, nil)
	ratio := float64(sent) / float64(min.Total)
	t.Logf("planned: %d requests, true minimum %d (%v): %.3f×", sent, min.Total, min.Requests, ratio)
	if ratio > 1.02 {
		t.Errorf("%d requests against a true minimum of %d: %.3f×, want at most 1.02×", sent, min.Total, ratio)
	}
}

func mustCountries(t *testing.T, list string) []string {
	t.Helper()
	j := job.Job{Queries: []job.Query{{Countries: []string{list}, From: "2023-01-01", To: "2023-01-02"}}}
	if err := j.Normalize(time.Now(), nil); err != nil {
		t.Fatal(err)
	}
	return j.Queries[0].Countries
}

// A slice that needed more pages than a day's quota, whose search_id then
// expired overnight, used to restart every day and never finish. With a
// quota of 30% of the job's minimum and search_ids that die at every reset,
// the harvest finishes within ceil(minimum/quota) + 3 days, exactly: for a
// track planned from ad/report, and for a term's track, which is planned
// blind, window after window (where the days a narrowed slice left were
// once asked twice, by its successor's next window too).
func TestQuotaLiveness(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, term string
		adsPerYear float64
	}{
		{name: "planned", adsPerYear: 40_000},
		{name: "blind", term: "coffee", adsPerYear: 400_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			quotaLiveness(t, tc.term, tc.adsPerYear)
		})
	}
}

func quotaLiveness(t *testing.T, term string, adsPerYear float64) {
	day := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return day }
	opts := apitest.Realistic(adsPerYear)
	opts.SearchIDsExpireAtReset, opts.Now = true, now
	q := job.Query{Countries: []string{"FR", "DE", "IT"}, From: "2023-01-01", To: "2023-06-30"}
	if term != "" {
		q.Terms = []string{term}
	}
	j := job.Job{Datasets: []string{job.Ads}, Queries: []job.Query{q}}
	probe := testkit.StartAPI(t, opts)
	nj := j
	if err := nj.Normalize(day, nil); err != nil {
		t.Fatal(err)
	}
	min := testkit.Minimum(probe.Universe(), nj)
	quota := int(math.Ceil(0.3 * float64(min.Total)))
	opts.DailyQuota = quota
	srv := testkit.StartAPI(t, opts)
	dir := t.TempDir()
	days := 0
	for ; days < 60; days++ {
		o := testkit.Options(srv, dir, &j)
		o.Now = now
		_, err := crawl.Run(context.Background(), o)
		if err == nil {
			break
		}
		var se *crawl.StopError
		if !errors.As(err, &se) {
			t.Fatalf("day %d: %v", days+1, err)
		}
		mu.Lock()
		day = day.AddDate(0, 0, 1) // the quota resets, and every search_id dies
		mu.Unlock()
	}
	days++
	bound := int(math.Ceil(float64(min.Total)/float64(quota))) + 3
	t.Logf("minimum %d requests, quota %d a day: finished on day %d (bound %d), %d requests", min.Total, quota, days, bound, srv.Stats().DataRequests)
	if days > bound {
		t.Errorf("finished on day %d, want at most %d", days, bound)
	}
	// HarvestedAds also requires each ad once per country and term in all
	// files together: no day harvested by two slices.
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), nj.Queries[0].Countries, "2023-01-01", "2023-06-30", term), testkit.HarvestedAds(t, dir))
}
