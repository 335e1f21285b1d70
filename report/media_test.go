package report_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/media"
	"adharvest/report"
	"adharvest/report/htmlcheck"
	"adharvest/tiktok/apitest"

	"golang.org/x/net/html"
)

// mediaPage renders the report of dir and returns the parsed page and its
// Creatives section (nil when there is none), after the page-wide checks.
func mediaPage(t *testing.T, dir string) (*report.Page, *html.Node, *html.Node) {
	t.Helper()
	p, err := report.Build(context.Background(), dir, report.Options{})
	if err != nil {
		t.Fatal(err)
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
	var sec *html.Node
	htmlcheck.Walk(root, func(n *html.Node) {
		if htmlcheck.Attr(n, "id") == "media" {
			sec = n
		}
	})
	return p, root, sec
}

// rowCells is the text of the cells of the table row of sec whose first
// cell starts with label.
func rowCells(sec *html.Node, label string) []string {
	var cells []string
	htmlcheck.Walk(sec, func(tr *html.Node) {
		if tr.Data != "tr" || cells != nil {
			return
		}
		var tds []string
		for c := tr.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "td" {
				tds = append(tds, htmlcheck.Text(c))
			}
		}
		if len(tds) > 0 && strings.HasPrefix(tds[0], label) {
			cells = tds
		}
	})
	return cells
}

// The Creatives section of a real harvest of the fake API and its CDN: the
// figures on the page are those media.ReadSummary counts from the
// checkpoint (a second implementation, in Go, of what the section's SQL
// computes from the tables), in total and per country; a harvest that still
// owes creatives says so in the banner; a folder harvested without the
// media dataset shows one line saying its creatives are not archived.
func TestReportShowsTheCreatives(t *testing.T) {
	cdn := apitest.DefaultCDN()
	cdn.SlowDelay, cdn.LargeSize = 20*time.Millisecond, 2<<20
	srv := testkit.StartAPI(t, apitest.Options{Seed: 3, CDN: cdn, LiveForms: true})
	j := job.Job{Datasets: []string{job.Ads, job.AdDetails, job.CommercialContent, job.Media},
		Queries: []job.Query{{Countries: []string{"FR", "DE"}, From: "2024-01-01", To: "2024-01-03"}}}
	dir := filepath.Join(t.TempDir(), "out")
	opts := func(budget int64) crawl.Options {
		o := testkit.Options(srv, dir, &j)
		o.Media = media.Options{MaxFileSize: 1 << 20, RetryBase: time.Millisecond, Budget: budget}
		return o
	}

	// A harvest whose media budget runs out: the banner names what is owed.
	_, err := crawl.Run(context.Background(), opts(1<<20))
	var se *crawl.StopError
	if !errors.As(err, &se) {
		t.Fatalf("a harvest with a media budget of 1 MiB: %v, want a stop", err)
	}
	p, _, sec := mediaPage(t, dir)
	owed := p.Media.Total.Failed + p.Media.Total.Pending
	if sec == nil || owed == 0 || !strings.Contains(htmlcheck.Text(sec), "still owed") || !strings.Contains(htmlcheck.Text(sec), "adharvest media --out "+p.Dir) {
		t.Fatalf("after a budget stop, the section does not say what is owed (%d)", owed)
	}
	if !strings.Contains(strings.Join(p.Status.Caveats, "\n"), "are not archived yet") {
		t.Errorf("the banner does not say that creatives are owed: %q", p.Status.Caveats)
	}

	// Resumed to the end.
	if _, err := crawl.Run(context.Background(), opts(0)); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if leaks := srv.CDNLeaks(); len(leaks) > 0 {
		t.Fatalf("credentials reached the CDN: %v", leaks)
	}
	s, err := media.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	if s.OK == 0 || s.Expired == 0 || s.Removed == 0 || s.TooLarge == 0 || s.Owed() != 0 || len(s.Countries) < 2 {
		t.Fatalf("the fake CDN should give every final status and nothing owed: %+v", s)
	}
	p, root, sec := mediaPage(t, dir)
	if sec == nil {
		t.Fatal("no Creatives section")
	}
	for _, c := range p.Status.Caveats {
		if strings.Contains(c, "Creatives") {
			t.Errorf("a caveat about creatives when none is owed: %s", c)
		}
	}
	for _, l := range p.Status.Shards {
		if l.Dataset == job.Media {
			t.Errorf("the shards table has a media line: %+v", l)
		}
	}
	text := htmlcheck.Text(sec)
	want := report.Int(int64(s.OK)) + " of " + report.Int(int64(s.URLs)) + " creatives linked are archived"
	for _, w := range []string{want, report.Int(int64(s.Expired)) + " expired", report.Int(int64(s.Removed)) + " removed",
		report.Int(int64(s.TooLarge)) + " too large", media.FormatBytes(s.Bytes) + " in " + report.Int(int64(s.Files)) + " files", "sha256sum", "taken down"} {
		if !strings.Contains(text, w) {
			t.Errorf("the section lacks %q: %.600s", w, text)
		}
	}
	if strings.Contains(text, "still owed") {
		t.Error("the section says creatives are owed when none is")
	}
	num := func(n int) string { return report.Int(int64(n)) }
	for _, c := range s.Countries {
		label := c.Country
		if label == "" {
			label = "no country"
		}
		got := rowCells(sec, label)
		want := []string{num(c.URLs), num(c.OK), "", num(c.Expired), num(c.Removed), num(c.TooLarge), num(c.Failed), num(c.Pending)}
		if len(got) < 9 {
			t.Errorf("%s: no row in the per-country table (%v)", label, got)
			continue
		}
		got = append(got[1:3:3], got[4:9]...)
		want = append(want[:2:2], want[3:]...)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: the row says %v, the checkpoint %v", label, got, want)
		}
	}
	if total := rowCells(sec, "all countries"); len(total) < 3 || total[1] != num(s.URLs) || total[2] != num(s.OK) {
		t.Errorf("the total row says %v, want %d creatives, %d archived", total, s.URLs, s.OK)
	}
	charts, _ := htmlcheck.Charts(root)
	if charts["chart-media"] == nil {
		t.Error("no chart of the creatives per country")
	}
	var card string
	htmlcheck.Walk(root, func(n *html.Node) {
		if htmlcheck.HasClass(n, "card") && strings.HasPrefix(htmlcheck.Text(n), "creatives archived") {
			card = htmlcheck.Text(n)
		}
	})
	if !strings.Contains(card, num(s.OK)) || !strings.Contains(card, "of "+num(s.URLs)+" linked") {
		t.Errorf("the creatives card says %q", card)
	}

	// The same data harvested without the media dataset: no section (the
	// folder has no media tables), until adharvest media runs on it; then
	// the figures, with what is still owed after a budget stop, and no
	// caveat in the banner, since the job did not ask for creatives.
	plain := filepath.Join(t.TempDir(), "plain")
	pj := j
	pj.Datasets = []string{job.Ads, job.AdDetails, job.CommercialContent}
	testkit.Harvest(t, srv, plain, &pj)
	_, root, sec = mediaPage(t, plain)
	toc := false
	htmlcheck.Walk(root, func(n *html.Node) { toc = toc || htmlcheck.Attr(n, "href") == "#media" })
	if sec != nil || toc {
		t.Errorf("a folder harvested without media has a Creatives section: %.300s", htmlcheck.Text(sec))
	}
	_, err = media.Run(context.Background(), plain, media.Options{MaxFileSize: 1 << 20, RetryBase: time.Millisecond, Budget: 1 << 20})
	if !errors.As(err, new(*media.StopError)) {
		t.Fatalf("adharvest media with a budget of 1 MiB: %v, want a stop", err)
	}
	p, _, sec = mediaPage(t, plain)
	if sec == nil || !strings.Contains(htmlcheck.Text(sec), "still owed") || !strings.Contains(htmlcheck.Text(sec), "adharvest media --out "+p.Dir) {
		t.Fatalf("after adharvest media stopped by its budget, the section does not say what is owed: %+v", p.Media.Total)
	}
	for _, c := range p.Status.Caveats {
		if strings.Contains(c, "Creatives") {
			t.Errorf("a caveat about creatives the job did not ask for: %s", c)
		}
	}

	// Links that expired before anyone fetched them (the fake without its
	// CDN signs them in the past): one line, no figures.
	old := testkit.StartAPI(t, apitest.Options{Seed: 3})
	stale := filepath.Join(t.TempDir(), "stale")
	sj := job.Job{Datasets: []string{job.Ads}, Queries: []job.Query{{Countries: []string{"FR"}, From: "2024-01-01", To: "2024-01-02"}}}
	testkit.Harvest(t, old, stale, &sj)
	if _, err := media.Run(context.Background(), stale, media.Options{RetryBase: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	p, root, sec = mediaPage(t, stale)
	if sec == nil || !strings.Contains(htmlcheck.Text(sec), "every link has expired already") || p.Media.Total.Expired != p.Media.Total.Creatives {
		t.Fatalf("a folder whose links all expired: %+v", p.Media.Total)
	}
	if charts, _ := htmlcheck.Charts(root); charts["chart-media"] != nil || strings.Contains(htmlcheck.Text(sec), "sha256sum") {
		t.Error("figures for creatives of which none could be fetched")
	}
}
