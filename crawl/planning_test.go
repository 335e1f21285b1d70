package crawl_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/tiktok/apitest"
)

func harvestJob(t *testing.T, opts apitest.Options, j job.Job) (*apitest.Server, string) {
	t.Helper()
	srv := testkit.StartAPI(t, opts)
	dir := t.TempDir()
	testkit.Harvest(t, srv, dir, &j)
	return srv, dir
}

func statusOf(t *testing.T, dir string) crawl.Status {
	t.Helper()
	st, err := crawl.ReadStatus(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// An ad/report range the API refuses as too long is asked again in halves
// (recorded), and the slices are still cut from the answers.
func TestRefusedReportRangeIsSplit(t *testing.T) {
	t.Parallel()
	opts := apitest.Realistic(20_000)
	opts.ReportMaxDays = 100
	j := job.Job{Datasets: []string{job.Ads, job.AdReports}, Queries: []job.Query{{Countries: []string{"FR", "DE"}, From: "2023-01-01", To: "2023-12-31"}}}
	srv, dir := harvestJob(t, opts, j)
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"FR", "DE"}, "2023-01-01", "2023-12-31", ""), testkit.HarvestedAds(t, dir))
	db := testkit.Open(t, dir)
	if n := testkit.Int(t, db, `SELECT count(DISTINCT window_start) FROM ad_reports`); n < 4 {
		t.Errorf("ad_reports come from %d windows; a year refused above 100 days needs at least 4", n)
	}
	want := int64(0)
	for _, days := range srv.Universe().Report("FR", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 12, 31, 0, 0, 0, 0, time.UTC), nil) {
		for range days {
			want++
		}
	}
	if got := testkit.Int(t, db, `SELECT count(*) FROM ad_reports WHERE query_country = 'FR'`); got != want {
		t.Errorf("%d FR report rows, want %d", got, want)
	}
	for _, r := range statusOf(t, dir).Coverage {
		if r.Planned != "report" && r.Planned != "half" {
			t.Errorf("slice %s was planned %q, not from the split reports", r.SliceID, r.Planned)
		}
	}
}

// An ad/report that answers empty, or fails, leaves the planner blind: it
// slices from what the pages show, says so in the coverage table, and still
// harvests every ad.
func TestBlindPlanningWhenReportsFail(t *testing.T) {
	t.Parallel()
	for name, f := range map[string]apitest.ReportFailures{"empty": {Empty: 1}, "500": {Err500: 1}} {
		t.Run(name, func(t *testing.T) {
			opts := apitest.Realistic(20_000)
			opts.ReportFailures = f
			j := job.Job{Datasets: []string{job.Ads}, Queries: []job.Query{{Countries: []string{"FR", "LI"}, From: "2023-01-01", To: "2023-06-30"}}}
			srv := testkit.StartAPI(t, opts)
			dir := t.TempDir()
			o := testkit.Options(srv, dir, &j)
			_, err := crawl.Run(context.Background(), o)
			var fe *crawl.FailedError
			if err != nil && !(name == "500" && errorsAs(err, &fe)) {
				t.Fatal(err)
			}
			if err != nil { // the failed report is retried by the next run; the ads are in
				_, _ = crawl.Run(context.Background(), testkit.Options(srv, dir, nil))
			}
			testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"FR", "LI"}, "2023-01-01", "2023-06-30", ""), testkit.HarvestedAds(t, dir))
			blind := 0
			for _, r := range statusOf(t, dir).Coverage {
				if r.Planned == "blind" {
					blind++
					if r.Status != crawl.CoverUnverified {
						t.Errorf("blind slice %s is %s, want unverified", r.SliceID, r.Status)
					}
				}
			}
			if blind == 0 {
				t.Error("no slice was planned blind")
			}
		})
	}
}

// The live service is known to end paging early on long results. A slice
// that comes back short of what ad/report counts is queried again once as
// two halves: healed where the halves are short enough to be served whole,
// flagged short where not.
func TestShortSlicesAreHealedOrFlagged(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		above  int
		healed bool
	}{
		{"healed", 130, true},
		{"flagged", 20, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := apitest.Options{Quirks: true, ShortPaging: &apitest.ShortPaging{Above: tc.above}}
			j := job.Job{Datasets: []string{job.Ads, job.AdReports}, SliceAds: 200,
				Queries: []job.Query{{Countries: []string{"FR"}, From: "2023-01-01", To: "2023-02-28"}}}
			srv, dir := harvestJob(t, opts, j)
			st := statusOf(t, dir)
			halves, short := 0, 0
			for _, r := range st.Coverage {
				if r.Planned == "half" {
					halves++
				}
				if r.Status == crawl.CoverShort {
					short++
				}
			}
			if halves == 0 {
				t.Fatal("no short slice was queried again as halves")
			}
			want := testkit.ExpectedAds(srv.Universe(), []string{"FR"}, "2023-01-01", "2023-02-28", "")
			got := testkit.HarvestedAds(t, dir)
			if tc.healed {
				if short != 0 {
					t.Errorf("%d slices still short after healing", short)
				}
				testkit.DiffAds(t, want, got)
			} else if short == 0 {
				t.Error("slices the fake cuts short even as halves are not flagged short")
			}
		})
	}
}

// --countries ALL is the API's own ALL: one query per slice for every
// country at once, each ad once, rows carrying ALL.
func TestCountriesALLIsTheAPIsOwn(t *testing.T) {
	t.Parallel()
	j := job.Job{Datasets: []string{job.Ads}, Queries: []job.Query{{Countries: []string{"ALL"}, From: "2023-01-01", To: "2023-03-31"}}}
	opts := apitest.Realistic(40_000)
	srv := testkit.StartAPI(t, opts)
	dir := t.TempDir()
	res := testkit.Harvest(t, srv, dir, &j)
	db := testkit.Open(t, dir)
	if n := testkit.Int(t, db, `SELECT count(*) FROM ads WHERE country_code <> 'ALL'`); n != 0 {
		t.Errorf("%d ads rows do not carry ALL", n)
	}
	want := srv.Universe().AdIDs(apitest.AdQuery{Country: "ALL", From: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2023, 3, 31, 0, 0, 0, 0, time.UTC)})
	if n := testkit.Int(t, db, `SELECT count(DISTINCT ad_id) FROM ads`); n != int64(len(want)) {
		t.Errorf("%d distinct ads, want %d", n, len(want))
	}
	if n := testkit.Int(t, db, `SELECT count(*) - count(DISTINCT ad_id) FROM ads_all`); n != 0 {
		t.Errorf("%d ads fetched twice", n)
	}
	min := testkit.Minimum(srv.Universe(), res.Job)
	sent := srv.Stats().DataRequests
	t.Logf("ALL: %d requests, true minimum %d: %.3f×", sent, min.Total, float64(sent)/float64(min.Total))
	if float64(sent) > 1.05*float64(min.Total) {
		t.Errorf("%d requests against a minimum of %d", sent, min.Total)
	}
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
