package crawl_test

import (
	"testing"

	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/tiktok/apitest"
)

// TestQueryDatasets: a query that names its own datasets fetches those
// alone. The creators' query of a job costs and holds exactly what it does
// as a job of its own, and the term query fetches no reports or commercial
// content (before, top-level datasets applied to every query: the
// elections example pulled all commercial content of 27 countries).
func TestQueryDatasets(t *testing.T) {
	t.Parallel()
	creators := job.Query{Countries: []string{"NL", "BE"}, From: "2024-01-01", To: "2024-01-14",
		Datasets: []string{job.CommercialContent}}
	whole := &job.Job{Datasets: []string{job.Ads}, Queries: []job.Query{
		{Countries: []string{"FR", "DE"}, From: "2024-01-01", To: "2024-01-14", Datasets: []string{job.Ads, job.AdReports}},
		{Countries: []string{"FR", "DE", "IT"}, From: "2024-01-01", To: "2024-01-14", Terms: []string{"coffee"}},
		creators,
	}}
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	dir := t.TempDir()
	res := testkit.Harvest(t, srv, dir, whole)

	alone := testkit.StartAPI(t, apitest.Options{Quirks: true})
	adir := t.TempDir()
	ares := testkit.Harvest(t, alone, adir, &job.Job{Queries: []job.Query{creators}})
	if got, want := res.Sent["commercial_content/query"], ares.Sent["commercial_content/query"]; got != want || want == 0 {
		t.Errorf("commercial_content/query: %d requests in the job, %d for the creators' query alone", got, want)
	}
	testkit.SameItems(t, adir, dir, "commercial_content")

	db := testkit.Open(t, dir)
	defer db.Close()
	if n := testkit.Int(t, db, "SELECT count(*) FROM ad_reports_all WHERE query_country NOT IN ('FR', 'DE')"); n != 0 {
		t.Errorf("%d report rows of countries only the term query has", n)
	}
	if n := testkit.Int(t, db, "SELECT count(*) FROM ads_all WHERE country_code = 'IT' AND search_term = ''"); n != 0 {
		t.Errorf("%d unfiltered ads in IT, which only the term query covers", n)
	}
	if n := testkit.Int(t, db, "SELECT count(*) FROM ads_all WHERE country_code = 'IT' AND search_term = 'coffee'"); n == 0 {
		t.Error("the term query fetched no ads (it fetches the job's datasets)")
	}
	testkit.DiffAds(t, union(
		testkit.ExpectedAds(srv.Universe(), []string{"FR", "DE"}, "2024-01-01", "2024-01-14", ""),
		testkit.ExpectedAds(srv.Universe(), []string{"FR", "DE", "IT"}, "2024-01-01", "2024-01-14", "coffee"),
	), testkit.HarvestedAds(t, dir))

	// The job as stored resumes as it is (its hash is stable), and a
	// resume costs nothing.
	sent := srv.Stats().DataRequests
	testkit.Harvest(t, srv, dir, nil)
	testkit.Harvest(t, srv, dir, whole)
	if n := srv.Stats().DataRequests; n != sent {
		t.Errorf("resuming the finished job sent %d requests", n-sent)
	}
}

func union[K comparable](a, b map[K]bool) map[K]bool {
	out := map[K]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}
