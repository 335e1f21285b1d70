package commands_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
	for _, id := range []string{"status", "scope", "coverage", "datasets", "volume", "compare", "withheld", "advertisers", "rejections"} {
		if doc.byID(id) == nil {
			t.Errorf("section #%s is missing", id)
		}
	}
	// Every shard is done, but the job searched a term and harvested
	// commercial content: no slice has an exact report, and the banner says
	// so instead of "Complete harvest".
	banner := doc.byID("status")
	if banner == nil || !htmlcheck.HasClass(banner, "note") {
		t.Fatalf("an unverified harvest has no 'note' banner")
	}
	bt := htmlcheck.Text(banner)
	for _, want := range []string{"Every shard done; not all of it can be verified", "Unverified: 12 of 12 slices have no exact ad/report count",
		"Unreadable: ", "could not be decoded"} {
		if !strings.Contains(bt, want) {
			t.Errorf("banner lacks %q: %s", want, bt)
		}
	}
	if strings.Contains(bt, "Complete harvest") {
		t.Errorf("the banner calls an unverified harvest complete: %s", bt)
	}
	charts := doc.checkCharts(t)
	for _, id := range []string{"chart-rows", "chart-coverage", "chart-weekly", "chart-compare", "chart-compare-weekly",
		"chart-fields-ads", "chart-fields-ad-details", "chart-fields-commercial-content", "chart-advertisers", "chart-reasons"} {
		if charts[id] == nil {
			t.Errorf("chart %s is missing", id)
		}
	}
	cards := checkCards(t, doc, []string{"distinct ads", "ads detailed", "ads × country harvested", "ads × country reported", "distinct posts", "advertisers", "items unreadable"},
		map[string]string{"status": "Done", "verified coverage": "none"})
	if cards["items unreadable"] == "0" {
		t.Error("the items unreadable card says 0")
	}

	// Coverage: the overall figure, and every slice listed as unverified.
	cov := htmlcheck.Text(doc.byID("coverage"))
	for _, want := range []string{"12 slices: 12 unverified.", "No slice has an exact ad/report count", "manifest.json records the same overall figure",
		"Slices that are not verified complete (12)", "coffee"} {
		if !strings.Contains(cov, want) {
			t.Errorf("coverage section lacks %q: %.600s", want, cov)
		}
	}
	// The items the API sent that could not be read: how many, and where.
	unread := doc.all(func(n *html.Node) bool { return n.Data == "h3" && htmlcheck.Attr(n, "id") == "unreadable" })
	if len(unread) != 1 {
		t.Fatal("no 'Items that could not be read' heading")
	}
	ds := htmlcheck.Text(doc.byID("datasets"))
	for _, want := range []string{"item(s) the API sent could not be decoded", "rejects", "ad/report", "not a 64-bit integer"} {
		if !strings.Contains(ds, want) {
			t.Errorf("datasets section lacks %q about unreadable items: %.400s", want, ds[strings.Index(ds, "Items that could not be read"):])
		}
	}
	// What the API withholds: the Commission's findings, the fields by topic.
	wh := htmlcheck.Text(doc.byID("withheld"))
	for _, want := range []string{"European Commission", "content of the ads, the users they target and who paid for them",
		"paid_for_by", "video_urls or image_urls", "targeting", "rejection_reasons (rejected)", "brand_names", "missing in"} {
		if !strings.Contains(wh, want) {
			t.Errorf("withheld section lacks %q: %.400s", want, wh)
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

// checkCards fails unless every card of the page holds one unit, named by
// its label (never a bare dataset name beside a differently counted one),
// the cards of units are there, and the cards in want have those values.
func checkCards(t *testing.T, doc htmlDoc, units []string, want map[string]string) map[string]string {
	t.Helper()
	cards := map[string]string{}
	for _, c := range doc.all(func(n *html.Node) bool { return htmlcheck.HasClass(n, "card") }) {
		var label, value string
		for k := c.FirstChild; k != nil; k = k.NextSibling {
			if k.Type != html.ElementNode {
				continue
			}
			switch {
			case htmlcheck.HasClass(k, "label"):
				label = htmlcheck.Text(k)
			case htmlcheck.HasClass(k, "value"):
				value = htmlcheck.Text(k)
			}
		}
		if _, dup := cards[label]; dup {
			t.Errorf("two cards are labelled %q", label)
		}
		cards[label] = value
	}
	for _, bare := range []string{"ads", "ad-reports", "ad-details", "commercial-content"} {
		if _, ok := cards[bare]; ok {
			t.Errorf("a card is labelled with the dataset name %q, not with its unit: %v", bare, cards)
		}
	}
	for _, unit := range units {
		if _, ok := cards[unit]; !ok {
			t.Errorf("no %q card: %v", unit, cards)
		}
	}
	for label, v := range want {
		if cards[label] != v {
			t.Errorf("card %q is %q, want %q (cards %v)", label, cards[label], v, cards)
		}
	}
	return cards
}

// harvestReport harvests args from the fake API (with opts) into a fresh
// folder, writes its report and returns the folder and the parsed page,
// whose charts and self-containment are checked.
func harvestReport(t *testing.T, opts apitest.Options, args ...string) (string, htmlDoc) {
	t.Helper()
	testkit.SetEnv(t, testkit.StartAPI(t, opts))
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := runCLI(t, harvestArgs(dir, args...)...); code != 0 {
		t.Fatalf("harvest: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, "report", "--out", dir); code != 0 {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	doc := parseReport(t, filepath.Join(dir, "report.html"))
	doc.checkSelfContained(t)
	doc.checkCharts(t)
	return dir, doc
}

// A harvest without terms, every slice holding what ad/report counts: the
// only kind the page calls complete.
func TestReportOfAVerifiedHarvest(t *testing.T) {
	_, doc := harvestReport(t, apitest.Options{Quirks: true},
		"--datasets", "ads,ad-details,ad-reports", "--countries", "FR,DE", "--from", "2024-01-01", "--to", "2024-01-21")
	banner := doc.byID("status")
	if banner == nil || !htmlcheck.HasClass(banner, "good") {
		t.Fatalf("a verified harvest is not shown as complete: %s", htmlcheck.Text(banner))
	}
	bt := htmlcheck.Text(banner)
	for _, want := range []string{"Complete harvest", "holds what ad/report counts"} {
		if !strings.Contains(bt, want) {
			t.Errorf("banner lacks %q: %s", want, bt)
		}
	}
	cards := checkCards(t, doc, []string{"distinct ads", "ads detailed", "ads × country harvested", "ads × country reported"},
		map[string]string{"status": "Complete", "verified coverage": "100%"})
	if _, ok := cards["items unreadable"]; ok {
		t.Error("an items unreadable card without rejects")
	}
	if cards["ads × country harvested"] != cards["ads × country reported"] {
		t.Errorf("every slice is complete, but the cards say %s harvested and %s reported", cards["ads × country harvested"], cards["ads × country reported"])
	}
	cov := htmlcheck.Text(doc.byID("coverage"))
	if !strings.Contains(cov, "Every slice holds what ad/report counts") || strings.Contains(cov, "not verified complete") {
		t.Errorf("coverage section of a verified harvest: %.500s", cov)
	}
	if ds := htmlcheck.Text(doc.byID("datasets")); !strings.Contains(ds, "Every item the API sent was decoded") {
		t.Errorf("the datasets section does not say that every item was read")
	}
}

// The fake ends pagination early on large result sets, as the live service
// does: slices stay short after being halved, and the page must say so at
// the top, with what is missing, instead of "Complete harvest".
func TestReportOfAShortHarvest(t *testing.T) {
	dir, doc := harvestReport(t, apitest.Options{Quirks: true, ShortPaging: &apitest.ShortPaging{Above: 6}},
		"--datasets", "ads,ad-reports", "--countries", "FR,DE", "--from", "2024-01-01", "--to", "2024-02-11")
	banner := doc.byID("status")
	if banner == nil || !htmlcheck.HasClass(banner, "warn") {
		t.Fatalf("a short harvest has no warning banner")
	}
	bt := htmlcheck.Text(banner)
	for _, want := range []string{"Every shard done, but not complete", "Short: ", "hold fewer ads than ad/report counts", "are not in the harvest"} {
		if !strings.Contains(bt, want) {
			t.Errorf("banner lacks %q: %s", want, bt)
		}
	}
	if strings.Contains(bt, "Complete harvest") {
		t.Errorf("the banner calls a short harvest complete: %s", bt)
	}
	cards := checkCards(t, doc, []string{"distinct ads", "ads × country harvested", "ads × country reported"}, map[string]string{"status": "Not complete"})
	if v := cards["verified coverage"]; v == "" || v == "100%" || v == "none" {
		t.Errorf("verified coverage card %q for short slices", v)
	}
	// Every short slice is in the table, highlighted, with what it misses.
	db := testkit.Open(t, dir)
	short := testkit.Int(t, db, "SELECT count(*) FROM coverage WHERE status = 'short'")
	if short == 0 {
		t.Fatal("the fake's short paging left no short slice")
	}
	rows := doc.all(func(n *html.Node) bool {
		return n.Data == "tr" && htmlcheck.HasClass(n, "warn") && strings.Contains(htmlcheck.Text(n), "short")
	})
	if int64(len(rows)) != short {
		t.Errorf("%d short rows in the coverage table, want %d", len(rows), short)
	}
	if cov := doc.byID("coverage"); !strings.Contains(htmlcheck.Text(cov), fmt.Sprintf("%d short", short)) {
		t.Errorf("coverage summary does not count %d short slices: %.300s", short, htmlcheck.Text(cov))
	}
	details := doc.all(func(n *html.Node) bool {
		return n.Data == "details" && strings.Contains(htmlcheck.Text(n), "not verified complete")
	})
	if len(details) != 1 || !hasAttr(details[0], "open") {
		t.Error("the table of short slices is not unfolded")
	}
}

// A harvest whose last days are recent: the next run fetches them again, so
// the page says they are provisional and when a run makes them final.
func TestReportOfARecentHarvest(t *testing.T) {
	today := time.Now().UTC()
	from, to := today.AddDate(0, 0, -10).Format("2006-01-02"), today.AddDate(0, 0, -1).Format("2006-01-02")
	_, doc := harvestReport(t, apitest.Options{Quirks: true},
		"--datasets", "ads,ad-reports,commercial-content", "--countries", "FR", "--from", from, "--to", to)
	banner := doc.byID("status")
	if banner == nil || !htmlcheck.HasClass(banner, "warn") {
		t.Fatalf("a harvest of recent days has no warning banner")
	}
	bt := htmlcheck.Text(banner)
	final := today.AddDate(0, 0, 3).Format("2006-01-02")
	for _, want := range []string{"Provisional: ", "shards cover days that were less than 3 days old", "the next run of adharvest harvest fetches them again", "on or after " + final} {
		if !strings.Contains(bt, want) {
			t.Errorf("banner lacks %q: %s", want, bt)
		}
	}
	if strings.Contains(bt, "Complete harvest") {
		t.Errorf("the banner calls a provisional harvest complete: %s", bt)
	}
	checkCards(t, doc, []string{"distinct ads", "ads × country harvested", "ads × country reported", "distinct posts"}, map[string]string{"status": "Not complete"})
	if cov := htmlcheck.Text(doc.byID("coverage")); !strings.Contains(cov, "provisional") {
		t.Errorf("coverage section does not list the provisional slices: %.400s", cov)
	}
	if scope := htmlcheck.Text(doc.byID("scope")); !strings.Contains(scope, "provisional") {
		t.Error("the shards table has no provisional column")
	}
}

func hasAttr(n *html.Node, key string) bool {
	for _, a := range n.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
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
	// A folder that holds no harvest at all is refused, in one line, as sql
	// and export refuse it.
	empty := t.TempDir()
	if code, _, stderr := runCLI(t, "report", "--out", empty); code != commands.ExitUsage || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Errorf("report on an empty folder: exit %d, stderr %q; want exit %d and one line", code, stderr, commands.ExitUsage)
	}
	if _, err := os.Stat(filepath.Join(empty, "report.html")); err == nil {
		t.Error("report.html written into a folder that holds no harvest")
	}
	// A harvest stopped before any data: its manifest alone is reported.
	withManifest := harvestForAnalysis(t, apitest.Options{Quirks: true, DailyQuota: 1}, commands.ExitResume)
	for _, dir := range []string{withManifest} {
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
		for _, id := range []string{"coverage", "volume", "compare", "withheld", "advertisers", "rejections"} {
			s := doc.byID(id)
			if s == nil || !strings.Contains(htmlcheck.Text(s), "No data for this dataset") {
				t.Errorf("section #%s does not say there is no data", id)
			}
		}
	}
}
