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
