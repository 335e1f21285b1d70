package report_test

import (
	"bytes"
	"context"
	"fmt"
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

// A real harvest of the fake whose last day was yesterday and whose large
// result sets the fake cuts short: every shard is done, yet slices are short
// and the last days provisional. The page must say both at the top, count
// them in the coverage section, and never call the harvest complete.
//
// The harvest runs on the real clock: crawl.Options.Now does not reach the
// crawler yet (crawl/run.go builds the Crawler without it), so a pinned clock
// would plan slices the crawl never runs.
func TestReportOfAShortAndRecentHarvest(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true, ShortPaging: &apitest.ShortPaging{Above: 6}})
	today := time.Now().UTC()
	to := today.AddDate(0, 0, -1)
	j, err := job.ParseFile(".yaml", []byte(fmt.Sprintf(`
datasets: [ads, ad-details, ad-reports, commercial-content]
from: %s
to: %s
queries:
  - countries: [FR, DE]
`, today.AddDate(0, 0, -21).Format("2006-01-02"), to.Format("2006-01-02"))))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if _, err := crawl.Run(context.Background(), testkit.Options(srv, dir, &j)); err != nil {
		t.Fatalf("harvest: %v", err)
	}

	p, err := report.Build(context.Background(), dir, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Status
	final := to.AddDate(0, 0, 4).Format("2006-01-02")
	if !st.Complete || st.Level != "warn" || !st.Provisional || st.FinalFrom != final {
		t.Fatalf("status %+v: want every shard done, a warning, provisional days final from %s", st, final)
	}
	statuses := map[string]int{}
	for _, s := range p.Coverage.Statuses {
		statuses[s.Status] = s.Slices
	}
	if statuses["short"] == 0 || statuses["provisional"] == 0 || statuses["unverified"] == 0 {
		t.Fatalf("coverage statuses %v: want short, provisional and unverified (commercial content) slices", statuses)
	}
	if p.Coverage.Verified >= p.Coverage.Reported || p.Coverage.Chart == nil {
		t.Errorf("coverage %+v: short slices verify less than reported, and there is a chart", p.Coverage)
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
	if problems := htmlcheck.SelfContained(root); len(problems) > 0 {
		t.Errorf("not self-contained: %v", problems)
	}
	var banner string
	htmlcheck.Walk(root, func(n *html.Node) {
		if htmlcheck.Attr(n, "id") == "status" {
			banner = htmlcheck.Text(n)
		}
	})
	for _, want := range []string{"Every shard done, but not complete: short slices and provisional days", "Short: ", "Provisional: ", "Unverified: ", "on or after " + final} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q: %s", want, banner)
		}
	}
	if strings.Contains(banner, "Complete harvest") {
		t.Errorf("the banner calls the harvest complete: %s", banner)
	}
}
