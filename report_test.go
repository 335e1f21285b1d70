package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"adharvest/harvest/apitest"

	"golang.org/x/net/html"
)

// analysisHarvestArgs is the harvest the report and notebook tests read: every
// dataset, three countries, six weeks and a search term.
func analysisHarvestArgs(dir string) []string {
	return []string{"harvest", "--out", dir, "--datasets", "ads,ad-details,ad-reports,commercial-content,advertisers",
		"--countries", "FR,DE,IT", "--from", "2024-01-01", "--to", "2024-02-11", "--term", "coffee",
		"--retry-base", "1ms", "--rps", "0", "--progress", "none"}
}

// harvestForAnalysis harvests the fake API into a fresh folder and returns it.
func harvestForAnalysis(t *testing.T, opts apitest.Options, wantCode int) string {
	t.Helper()
	srv := apitest.Start(opts)
	t.Cleanup(srv.Close)
	setCreds(t, srv)
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

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if c == class {
			return true
		}
	}
	return false
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
	nodes := d.all(func(n *html.Node) bool { return attr(n, "id") == id })
	if len(nodes) == 0 {
		return nil
	}
	return nodes[0]
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}

// checkCharts checks every <svg>: an accessible title and description, and at
// least one data mark (a rect, path or circle of class "mark"). It returns
// the charts by id.
func (d htmlDoc) checkCharts(t *testing.T) map[string]*html.Node {
	t.Helper()
	charts := map[string]*html.Node{}
	for _, svg := range d.all(func(n *html.Node) bool { return n.Data == "svg" }) {
		id := attr(svg, "id")
		charts[id] = svg
		var title, desc string
		marks := 0
		for c := svg.FirstChild; c != nil; c = c.NextSibling {
			if c.Type == html.ElementNode && c.Data == "title" {
				title = textOf(c)
			}
			if c.Type == html.ElementNode && c.Data == "desc" {
				desc = textOf(c)
			}
		}
		sub := htmlDoc{root: svg}
		for _, m := range sub.all(func(n *html.Node) bool { return hasClass(n, "mark") }) {
			switch m.Data {
			case "rect", "path", "circle":
				marks++
			}
		}
		if title == "" || desc == "" {
			t.Errorf("chart %q has no <title> or <desc> (title %q)", id, title)
		}
		if marks == 0 {
			t.Errorf("chart %q (%s) has no data mark", id, title)
		}
		if attr(svg, "role") != "img" || attr(svg, "aria-labelledby") == "" {
			t.Errorf("chart %q is not labelled for assistive technology", id)
		}
	}
	return charts
}

var externalRef = regexp.MustCompile(`(?i)^\s*(https?:|//|ftp:|file:|javascript:)`)

// checkSelfContained fails on anything that would make a browser fetch or run
// something: scripts, stylesheets, frames, images or media from elsewhere,
// CSS url() or @import, links that are not in-page anchors.
func (d htmlDoc) checkSelfContained(t *testing.T) {
	t.Helper()
	for _, n := range d.all(func(*html.Node) bool { return true }) {
		switch n.Data {
		case "script", "link", "iframe", "frame", "object", "embed", "img", "video", "audio", "source", "base", "form", "image", "use", "foreignObject", "foreignobject":
			t.Errorf("report has a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			k := strings.ToLower(a.Key)
			if strings.HasPrefix(k, "on") {
				t.Errorf("<%s> has an event handler %s", n.Data, a.Key)
			}
			switch {
			case k == "href" || k == "xlink:href" || a.Namespace == "xlink" && a.Key == "href":
				if !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s href=%q> is not an in-page link", n.Data, a.Val)
				}
			case k == "src" || k == "srcset" || k == "action" || k == "formaction" || k == "poster" || k == "data" || k == "background" || k == "ping":
				t.Errorf("<%s %s=%q> loads something", n.Data, a.Key, a.Val)
			case k == "style":
				if strings.Contains(strings.ToLower(a.Val), "url(") {
					t.Errorf("<%s style=%q> has url()", n.Data, a.Val)
				}
			default:
				if externalRef.MatchString(a.Val) && n.Data != "meta" {
					t.Errorf("<%s %s=%q> points outside", n.Data, a.Key, a.Val)
				}
			}
		}
		if n.Data == "style" {
			css := strings.ToLower(textOf(n))
			if strings.Contains(css, "url(") || strings.Contains(css, "@import") || strings.Contains(css, "@font-face") {
				t.Errorf("inline CSS loads something: %.200s", css)
			}
		}
	}
	csp := d.all(func(n *html.Node) bool {
		return n.Data == "meta" && strings.EqualFold(attr(n, "http-equiv"), "Content-Security-Policy")
	})
	if len(csp) != 1 || !strings.Contains(attr(csp[0], "content"), "default-src 'none'") {
		t.Error("report has no Content-Security-Policy forbidding loads")
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
	if s := doc.byID("status"); s == nil || !hasClass(s, "good") || !strings.Contains(textOf(s), "Complete harvest") {
		t.Errorf("a complete harvest is not shown as complete")
	}
	charts := doc.checkCharts(t)
	for _, id := range []string{"chart-rows", "chart-weekly", "chart-compare", "chart-compare-weekly", "chart-advertisers", "chart-reasons"} {
		if charts[id] == nil {
			t.Errorf("chart %s is missing", id)
		}
	}
	if nd := doc.all(func(n *html.Node) bool { return hasClass(n, "nodata") }); len(nd) > 0 {
		t.Errorf("a harvest of every dataset shows %d 'no data' notes, first: %s", len(nd), textOf(nd[0]))
	}
	// The job searched a term in three countries: ad/report counts every ad,
	// so the comparison flags all three and says why.
	cmp := textOf(doc.byID("compare"))
	for _, want := range []string{"differ by more than 5%", "DE", "FR", "IT", "filtered"} {
		if !strings.Contains(cmp, want) {
			t.Errorf("comparison section lacks %q: %.300s", want, cmp)
		}
	}
	scope := textOf(doc.byID("scope"))
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
	dir := harvestForAnalysis(t, apitest.Options{Quirks: true, DailyQuota: 5}, exitResume)
	if code, _, stderr := runCLI(t, "report", "--out", dir); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	doc := parseReport(t, filepath.Join(dir, "report.html"))
	doc.checkSelfContained(t)
	doc.checkCharts(t)
	banner := doc.byID("status")
	if banner == nil || !hasClass(banner, "bad") {
		t.Fatal("no incomplete banner")
	}
	text := textOf(banner)
	for _, want := range []string{"Incomplete harvest", "shards pending", "adharvest harvest --out " + dir} {
		if !strings.Contains(text, want) {
			t.Errorf("banner lacks %q: %s", want, text)
		}
	}
	// The banner comes before every section.
	if i, j := strings.Index(doc.text, `id="status"`), strings.Index(doc.text, `id="scope"`); i < 0 || i > j {
		t.Error("the banner is not at the top")
	}
	nd := doc.all(func(n *html.Node) bool { return hasClass(n, "nodata") })
	if len(nd) == 0 {
		t.Fatal("no 'no data' note in a harvest stopped after 5 requests")
	}
	for _, n := range nd {
		if !strings.Contains(textOf(n), "No data") && !strings.Contains(textOf(n), "No rejection") {
			t.Errorf("note %q does not say there is no data", textOf(n))
		}
	}
}

func TestReportOfFoldersWithoutData(t *testing.T) {
	// A folder with nothing at all, and one with only a manifest.
	empty := t.TempDir()
	withManifest := harvestForAnalysis(t, apitest.Options{Quirks: true, DailyQuota: 1}, exitResume)
	for _, dir := range []string{empty, withManifest} {
		for _, sub := range []string{"ads", "ad_reports", "ad_details", "ad_detail_reach_by_country", "ad_detail_target_countries", "ad_detail_target_ages", "ad_detail_target_genders", "commercial_content", "advertisers", "raw"} {
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
		if b := doc.byID("status"); b == nil || !hasClass(b, "bad") {
			t.Error("no warning banner on a folder without data")
		}
		for _, id := range []string{"volume", "compare", "advertisers", "rejections"} {
			s := doc.byID(id)
			if s == nil || !strings.Contains(textOf(s), "No data for this dataset") {
				t.Errorf("section #%s does not say there is no data", id)
			}
		}
	}
}
