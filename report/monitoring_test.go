package report_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/report"
	"adharvest/report/htmlcheck"
	"adharvest/tiktok/apitest"

	"golang.org/x/net/html"
)

// TestReportOfANightlyMonitor: two nightly runs of a job asked up to
// yesterday, on a fake whose ads appear up to a day late and are taken down.
// The page has a Monitoring section with the days, the takedowns the second
// night observed, the publication latency per country (some ads first
// fetched more than 48 hours after their day began) and the provisional
// days; the banner does not call the folder complete, and the command to
// resume it keeps the detail budget.
func TestReportOfANightlyMonitor(t *testing.T) {
	first := time.Date(2024, 6, 10, 2, 0, 0, 0, time.UTC)
	clk := apitest.NewClock(first)
	srv := testkit.StartAPI(t, apitest.Options{Seed: 4, Density: 20, Now: clk.Now,
		Lifecycle: &apitest.Lifecycle{MaxPublishLatency: 20 * time.Hour, TakedownRate: 0.4, TakedownWithin: 3}})
	dir := filepath.Join(t.TempDir(), "out")
	j := &job.Job{Datasets: []string{"ads", "ad-details"}, Queries: []job.Query{{Countries: []string{"FR", "DE"}, From: "2024-06-01", To: "yesterday"}}}
	for night := 0; night < 2; night++ {
		clk.Set(first.AddDate(0, 0, night))
		o := testkit.Options(srv, dir, j)
		o.Now, o.DetailBudget = clk.Now, 100000
		if _, err := crawl.Run(context.Background(), o); err != nil {
			t.Fatalf("night %d: %v", night+1, err)
		}
		j = nil
	}
	p, err := report.Build(context.Background(), dir, report.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mv := p.Monitoring
	if !mv.Has || !mv.Rolling || mv.Chart == nil || len(mv.Days) == 0 {
		t.Fatalf("monitoring %+v: want the section, rolling, with a chart and days", mv)
	}
	var takedowns int64
	for _, d := range mv.Days {
		takedowns += d.Takedowns
	}
	if takedowns == 0 || !strings.Contains(mv.Summary, "2 runs") {
		t.Errorf("summary %q, %d takedowns: want both nights and the takedowns of the second", mv.Summary, takedowns)
	}
	if !strings.Contains(mv.Provisional, "2024-06-08 to 2024-06-10") {
		t.Errorf("provisional %q: want the three days the next night fetches again (06-07 was fetched 4 days after it: final)", mv.Provisional)
	}
	if len(mv.Latency) != 2 || mv.LatencyAll.Ads == 0 || mv.LatencyAll.Over48 == "0%" || mv.LatencyAll.Over24 != "100%" {
		t.Errorf("latency %+v / %+v: want FR and DE, every ad more than 24 h and some more than 48 h after its day began", mv.Latency, mv.LatencyAll)
	}
	st := p.Status
	if st.Level == "good" || !st.Provisional {
		t.Errorf("status %+v: a folder with provisional days is not a complete harvest", st)
	}
	if !strings.Contains(st.Resume, "--detail-budget 100000") {
		t.Errorf("resume %q does not keep the detail budget", st.Resume)
	}

	var buf bytes.Buffer
	if err := p.Render(&buf); err != nil {
		t.Fatal(err)
	}
	root, err := html.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, problems := htmlcheck.Charts(root); len(problems) > 0 {
		t.Errorf("charts: %v", problems)
	}
	var section, banner string
	htmlcheck.Walk(root, func(n *html.Node) {
		switch htmlcheck.Attr(n, "id") {
		case "monitoring":
			section = htmlcheck.Text(n)
		case "status":
			banner = htmlcheck.Text(n)
		}
	})
	for _, want := range []string{"Monitoring: what each night brought", "Provisional: 2024-06-08 to 2024-06-10", "Publication latency", "over 48 h", "adharvest harvest --out " + p.Dir} {
		if !strings.Contains(section, want) {
			t.Errorf("the monitoring section lacks %q: %.600s", want, section)
		}
	}
	if strings.Contains(banner, "Complete harvest") {
		t.Errorf("the banner calls a folder with provisional days complete: %s", banner)
	}
}
