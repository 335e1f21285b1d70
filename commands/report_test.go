package commands_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/commands"
	"adharvest/internal/testkit"
	"adharvest/report/htmlcheck"
	"adharvest/tiktok/apitest"

	"golang.org/x/net/html"
)

// analysisHarvestArgs is the harvest the report and notebook tests read: every
// dataset, three countries, six weeks and a search term.
func analysisHarvestArgs(dir string) []string {
	return harvestArgs(dir, "--datasets", "ads,ad-details,ad-reports,commercial-content,advertisers",
		"--countries", "FR,DE,IT", "--from", "2024-01-01", "--to", "2024-02-11", "--term", "coffee")
}

// harvestForAnalysis harvests the fake API into a fresh folder and returns it.
func harvestForAnalysis(t *testing.T, opts apitest.Options, wantCode int) string {
	t.Helper()
	// Behind Corrupt, so that the rejects table has rows to show too.
	_, url := testkit.StartCorrupt(t, opts, apitest.CorruptOptions{Every: 60, Seed: 3})
	testkit.SetEnvURL(t, url)
	dir := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCLI(t, analysisHarvestArgs(dir)...)
	if code != wantCode {
		t.Fatalf("harvest: exit %d, want %d: %s", code, wantCode, stderr)
	}
	return dir
}

// htmlDoc is a parsed report with helpers to find things in it.
type htmlDoc struct {
	root *html.Node
	text string
}

func parseReport(t *testing.T, path string) htmlDoc {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	root, err := html.Parse(strings.NewReader(string(b)))
	if err != nil {
		t.Fatalf("report does not parse: %v", err)
	}
	return htmlDoc{root: root, text: string(b)}
}

func (d htmlDoc) all(match func(*html.Node) bool) []*html.Node {
	var out []*html.Node
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && match(n) {
			out = append(out, n)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(d.root)
	return out
}

func (d htmlDoc) byID(id string) *html.Node {
	nodes := d.all(func(n *html.Node) bool { return htmlcheck.Attr(n, "id") == id })
	if len(nodes) == 0 {
		return nil
	}
	return nodes[0]
}

// checkCharts fails on any chart without a title, description, label or data
// mark (htmlcheck.Charts), and returns the charts by id.
func (d htmlDoc) checkCharts(t *testing.T) map[string]*html.Node {
	t.Helper()
	charts, problems := htmlcheck.Charts(d.root)
	for _, p := range problems {
		t.Error(p)
	}
	return charts
}

// checkSelfContained fails on anything that would make a browser fetch or run
// something (htmlcheck.SelfContained).
func (d htmlDoc) checkSelfContained(t *testing.T) {
	t.Helper()
	for _, p := range htmlcheck.SelfContained(d.root) {
		t.Error(p)
	}
}

func TestReportOfAHarvest(t *testing.T) {
	dir := harvestForAnalysis(t, apitest.Options{Quirks: true}, 0)
	code, stdout, stderr := runCLI(t, "report", "--out", dir)
	if code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	path := filepath.Join(dir, "report.html")
	if !strings.Contains(stdout, path) {
		t.Errorf("stdout %q does not say where the report is", stdout)
	}
	doc := parseReport(t, path)
	doc.checkSelfContained(t)
	for _, id := range []string{"status", "scope", "datasets", "volume", "compare", "advertisers", "rejections"} {
		if doc.byID(id) == nil {
			t.Errorf("section #%s is missing", id)
		}
	}
	if s := doc.byID("status"); s == nil || !htmlcheck.HasClass(s, "good") || !strings.Contains(htmlcheck.Text(s), "Complete harvest") {
		t.Errorf("a complete harvest is not shown as complete")
	}
	charts := doc.checkCharts(t)
	for _, id := range []string{"chart-rows", "chart-weekly", "chart-compare", "chart-compare-weekly", "chart-advertisers", "chart-reasons"} {
		if charts[id] == nil {
			t.Errorf("chart %s is missing", id)
		}
	}
	if nd := doc.all(func(n *html.Node) bool { return htmlcheck.HasClass(n, "nodata") }); len(nd) > 0 {
		t.Errorf("a harvest of every dataset shows %d 'no data' notes, first: %s", len(nd), htmlcheck.Text(nd[0]))
	}
	// The job searched a term in three countries: ad/report counts every ad,
	// so the comparison flags all three and says why.
	cmp := htmlcheck.Text(doc.byID("compare"))
	for _, want := range []string{"differ by more than 5%", "DE", "FR", "IT", "filtered"} {
		if !strings.Contains(cmp, want) {
			t.Errorf("comparison section lacks %q: %.300s", want, cmp)
		}
	}
	scope := htmlcheck.Text(doc.byID("scope"))
	for _, want := range []string{"coffee", "DE, FR, IT", "2024-01-01 to 2024-02-11", "complete"} {
		if !strings.Contains(scope, want) {
			t.Errorf("scope section lacks %q", want)
		}
	}

	// --output writes elsewhere; the folder's report is left as it was.
	other := filepath.Join(t.TempDir(), "r.html")
	if code, _, stderr := runCLI(t, "report", "--out", dir, "--output", other); code != 0 {
		t.Fatalf("report --output: exit %d: %s", code, stderr)
	}
	parseReport(t, other).checkCharts(t)
}

func TestReportUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"report"},
		{"report", "--out", filepath.Join(t.TempDir(), "missing")},
		{"report", "--out", t.TempDir(), "--output", t.TempDir()},
		{"report", "--out", t.TempDir(), "extra"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || stdout != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want exit 2 and one line", args, code, stdout, stderr)
		}
	}
}

// A harvest stopped by the quota early on: the page says at the top that it
// is incomplete and what is owed, and sections without data say so instead
// of drawing empty charts.
func TestReportOfAnIncompleteHarvest(t *testing.T) {
	dir := harvestForAnalysis(t, apitest.Options{Quirks: true, DailyQuota: 5}, commands.ExitResume)
	if code, _, stderr := runCLI(t, "report", "--out", dir); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	doc := parseReport(t, filepath.Join(dir, "report.html"))
	doc.checkSelfContained(t)
	doc.checkCharts(t)
	banner := doc.byID("status")
	if banner == nil || !htmlcheck.HasClass(banner, "bad") {
		t.Fatal("no incomplete banner")
	}
	text := htmlcheck.Text(banner)
	for _, want := range []string{"Incomplete harvest", "shards pending", "adharvest harvest --out " + dir} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q: %s", want, text)
		}
	}
	// The banner comes before every section.
	if i, j := strings.Index(doc.text, `id="status"`), strings.Index(doc.text, `id="scope"`); i < 0 || i > j {
		t.Error("the banner is not at the top")
	}
	nd := doc.all(func(n *html.Node) bool { return htmlcheck.HasClass(n, "nodata") })
	if len(nd) == 0 {
		t.Fatal("no 'no data' note in a harvest stopped after 5 requests")
	}
	for _, n := range nd {
		if !strings.Contains(htmlcheck.Text(n), "No data") && !strings.Contains(htmlcheck.Text(n), "No rejection") {
			t.Errorf("note %q does not say there is no data", htmlcheck.Text(n))
		}
	}
}

func TestReportOfFoldersWithoutData(t *testing.T) {
	// A folder with nothing at all, and one with only a manifest.
	empty := t.TempDir()
	withManifest := harvestForAnalysis(t, apitest.Options{Quirks: true, DailyQuota: 1}, commands.ExitResume)
	for _, dir := range []string{empty, withManifest} {
		for _, sub := range []string{"ads", "ad_reports", "ad_details", "ad_detail_reach_by_country", "ad_detail_target_countries", "ad_detail_target_ages", "ad_detail_target_genders", "commercial_content", "advertisers", "rejects", "coverage", "raw"} {
			os.RemoveAll(filepath.Join(dir, sub))
		}
		if code, _, stderr := runCLI(t, "report", "--out", dir); code != 0 {
			t.Fatalf("report on %s: exit %d: %s", dir, code, stderr)
		}
		doc := parseReport(t, filepath.Join(dir, "report.html"))
		doc.checkSelfContained(t)
		if n := len(doc.checkCharts(t)); n != 0 {
			t.Errorf("%d charts drawn without data", n)
		}
		if b := doc.byID("status"); b == nil || !htmlcheck.HasClass(b, "bad") {
			t.Error("no warning banner on a folder without data")
		}
		for _, id := range []string{"volume", "compare", "advertisers", "rejections"} {
			s := doc.byID(id)
			if s == nil || !strings.Contains(htmlcheck.Text(s), "No data for this dataset") {
				t.Errorf("section #%s does not say there is no data", id)
			}
		}
	}
}
