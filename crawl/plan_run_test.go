package crawl_test

import (
	"context"
	"math"
	"testing"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/tiktok/apitest"
)

// A plan sends only ad/report requests, predicts what the harvest then
// sends within 5%, and keeps its answers in the folder, so that the harvest
// does not ask them again.
func TestPlanPredictsTheHarvest(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Realistic(30_000))
	dir := t.TempDir()
	j := job.Job{Datasets: []string{job.Ads, job.AdReports}, Queries: []job.Query{{Countries: []string{"EEA"}, From: "2023-01-01", To: "2023-06-30"}}}
	o := testkit.Options(srv, dir, &j)
	o.PlanOnly = true
	res, err := crawl.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	st := srv.Stats()
	if st.DataRequests != st.ByEndpoint[apitest.EndpointAdReport] || st.DataRequests == 0 {
		t.Fatalf("the plan sent %d requests, %d of them ad/report; want only ad/report", st.DataRequests, st.ByEndpoint[apitest.EndpointAdReport])
	}
	e := res.Estimate
	if e == nil || e.ReportRequests != st.DataRequests {
		t.Fatalf("estimate %+v; the plan sent %d report requests", e, st.DataRequests)
	}
	planned := st.DataRequests

	// The harvest of the same job in the same folder.
	res2, err := crawl.Run(context.Background(), testkit.Options(srv, dir, &j))
	if err != nil {
		t.Fatal(err)
	}
	st2 := srv.Stats()
	if n := st2.ByEndpoint[apitest.EndpointAdReport] - st.ByEndpoint[apitest.EndpointAdReport]; n != 0 {
		t.Errorf("the harvest asked ad/report again %d times", n)
	}
	total := st2.DataRequests
	off := math.Abs(float64(e.TotalRequests-total)) / float64(total)
	t.Logf("plan: %d requests (%d sent by the plan); harvest in all: %d; off by %.1f%%", e.TotalRequests, planned, total, 100*off)
	if off > 0.05 {
		t.Errorf("the plan predicted %d requests, the harvest took %d (%.1f%% off)", e.TotalRequests, total, 100*off)
	}
	_ = res2
}

// TestPlanCostPerQuery: with queries that name their own datasets, the plan
// says what each query costs; the queries add up to the job, and each
// query's figure is what the harvest of that query alone takes.
func TestPlanCostPerQuery(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Realistic(30_000))
	qs := []job.Query{
		{Countries: []string{"FR", "DE"}, From: "2023-01-01", To: "2023-03-31", Datasets: []string{job.Ads, job.AdReports}},
		{Countries: []string{"IT"}, From: "2023-01-01", To: "2023-03-31"},
	}
	j := job.Job{Datasets: []string{job.Ads}, Queries: qs}
	o := testkit.Options(srv, t.TempDir(), &j)
	o.PlanOnly = true
	res, err := crawl.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	e := res.Estimate
	if e == nil || len(e.Queries) != 2 {
		t.Fatalf("estimate %+v: want a cost per query", e)
	}
	sum := 0
	for _, q := range e.Queries {
		sum += q.Requests
	}
	if sum != e.TotalRequests {
		t.Errorf("the queries cost %d requests together, the job %d", sum, e.TotalRequests)
	}
	if e.Queries[0].Datasets != "ads,ad-reports" || e.Queries[1].Datasets != "ads" {
		t.Errorf("datasets per query %q, %q", e.Queries[0].Datasets, e.Queries[1].Datasets)
	}
	for i, q := range qs {
		alone := testkit.StartAPI(t, apitest.Realistic(30_000))
		one := job.Job{Datasets: []string{job.Ads}, Queries: []job.Query{q}}
		res := testkit.Harvest(t, alone, t.TempDir(), &one)
		var n int64
		for ep, v := range res.Sent {
			if ep != "oauth/token" { // not a data request: no quota
				n += v
			}
		}
		if int(n) != e.Queries[i].Requests {
			t.Errorf("query %d: the plan says %d requests, its harvest alone took %d (%v)", i+1, e.Queries[i].Requests, n, res.Sent)
		}
	}
}
