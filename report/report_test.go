package report

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		max  float64
		n    int
		want []float64
	}{
		{0, 5, []float64{0, 1}},
		{1, 5, []float64{0, 1}},
		{4, 5, []float64{0, 1, 2, 3, 4}},
		{5, 2, []float64{0, 5}},
		{202, 5, []float64{0, 50, 100, 150, 200, 250}},
		{17388, 5, []float64{0, 5000, 10000, 15000, 20000}},
		{90, 5, []float64{0, 20, 40, 60, 80, 100}},
	} {
		got := niceTicks(tc.max, tc.n)
		if len(got) != len(tc.want) {
			t.Errorf("niceTicks(%g, %d) = %v, want %v", tc.max, tc.n, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("niceTicks(%g, %d) = %v, want %v", tc.max, tc.n, got, tc.want)
				break
			}
		}
		if top := got[len(got)-1]; top < tc.max {
			t.Errorf("niceTicks(%g): top tick %g below the maximum", tc.max, top)
		}
	}
}

func TestNumbers(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4500: "-4,500"} {
		if got := Int(in); got != want {
			t.Errorf("Int(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[float64]string{500: "500", 1500: "1.5K", 20000: "20K", 1e6: "1M", 2.5e9: "2.5B"} {
		if got := Num(in, true); got != want {
			t.Errorf("Num(%g, short) = %q, want %q", in, got, want)
		}
	}
	if got := Truncate("a  very\nlong   label", 9); got != "a very l…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("Łódź", 4); got != "Łódź" {
		t.Errorf("Truncate of a short label = %q", got)
	}
}

func TestChartsWithoutDataAreNil(t *testing.T) {
	if BarChart("x", "t", "d", "a", nil, false) != nil {
		t.Error("BarChart without bars is not nil")
	}
	if GroupedBarChart("x", "t", "d", "a", nil, []Series{{Name: "s"}}, nil) != nil {
		t.Error("GroupedBarChart without categories is not nil")
	}
	if LineChart("x", "t", "d", "a", nil, nil, []Series{{Name: "s"}}) != nil {
		t.Error("LineChart without weeks is not nil")
	}
	if SmallMultiples("x", "t", "d", "a", []time.Time{time.Now()}, nil, nil, 4) != nil {
		t.Error("SmallMultiples without series is not nil")
	}
}

// countMarks counts data marks in a chart's geometry.
func countMarks(c *Chart) int {
	n := len(c.Paths) + len(c.Points)
	for _, r := range c.Marks {
		if r.Class == "mark" {
			n++
		}
	}
	return n
}

func TestChartGeometry(t *testing.T) {
	weeks := []time.Time{time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	// One week: no line can be drawn, but the point must be.
	lc := LineChart("l", "t", "d", "a", weeks, []bool{true}, []Series{{Name: "FR", Values: []float64{3}}})
	if len(lc.Points) != 1 || !lc.Points[0].Hollow || countMarks(lc) == 0 {
		t.Fatalf("single-week line chart: %+v", lc.Points)
	}
	// All zero values still give a visible scale and marks.
	bc := BarChart("b", "t", "d", "a", []Bar{{Label: "x", Value: 0}}, false)
	if countMarks(bc) != 1 || bc.Marks[0].W <= 0 {
		t.Fatalf("zero bar: %+v", bc.Marks)
	}
	// Everything stays inside the drawing.
	var bars []Bar
	for i := range 20 {
		bars = append(bars, Bar{Label: strings.Repeat("Ω", i*5), Value: float64(i * 1000)})
	}
	for _, c := range []*Chart{
		BarChart("b", "t", "d", "a", bars, false),
		BarChart("b", "t", "d", "a", bars, true),
		GroupedBarChart("g", "t", "d", "a", []string{"AT", "BE", "BG"}, []Series{{Name: "a", Values: []float64{1, 2, 3}}, {Name: "b", Values: []float64{3, 2, 1}}}, []bool{false, true, false}),
	} {
		for _, r := range c.Marks {
			if r.X < 0 || r.Y < 0 || r.X+r.W > c.Width+0.01 || r.Y+r.H > c.Height+0.01 || r.W <= 0 || r.H <= 0 {
				t.Errorf("%s: mark %+v outside %gx%g", c.ID, r, c.Width, c.Height)
			}
		}
		for _, x := range c.Texts {
			if x.Y < 0 || x.Y > c.Height {
				t.Errorf("%s: text %q at y=%g outside height %g", c.ID, x.Text, x.Y, c.Height)
			}
		}
	}
}

// A folder with a manifest but no data: every section says so, the banner
// lists what is pending, and text from the manifest is escaped.
func TestManifestOnlyFolder(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "manifest-only", "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "sub", "r.html")
	now := func() time.Time { return time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC) }
	if err := WriteFile(context.Background(), dir, out, Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	s := string(page)
	for _, want := range []string{
		"Incomplete harvest",
		"ads: 8 of 8 shards pending",
		"ad-reports: 3 of 4 shards pending, 1 of 4 shards failed",
		"the last run (20240301T100000Z-abc123) stopped",
		"No data for this dataset yet: 8 of 8 shards are still pending",
		"the job did not ask for commercial-content",
		"&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;",
		"café &amp; crème",
		"&lt;b&gt;quota&lt;/b&gt;",
		"Generated 2024-03-02 00:00 UTC",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(s, "<script") || strings.Contains(s, "<b>quota") {
		t.Error("manifest text is not escaped")
	}
	if n := strings.Count(s, "<svg"); n != 0 {
		t.Errorf("%d charts drawn for a folder without data", n)
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, "sub", ".tmp-*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

func TestFolderWithoutManifest(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, t.TempDir(), Options{}); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	for _, want := range []string{"Provenance unknown", "there is no manifest.json in this folder", "No data for this dataset"} {
		if !strings.Contains(s, want) {
			t.Errorf("report lacks %q", want)
		}
	}
}

func TestMissingFolderIsAnError(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, filepath.Join(t.TempDir(), "nope"), Options{}); err == nil {
		t.Fatal("no error for a missing folder")
	}
}

// The section queries read only the views, never files.
func TestQueriesReadOnlyViews(t *testing.T) {
	names := QueryNames()
	if len(names) < 7 {
		t.Fatalf("only %d queries embedded: %v", len(names), names)
	}
	bad := regexp.MustCompile(`(?i)read_parquet|read_json|read_csv|\.parquet|glob\(`)
	for _, n := range names {
		q, err := Query(n)
		if err != nil {
			t.Fatal(err)
		}
		if bad.MatchString(q) {
			t.Errorf("%s reads files directly: %s", n, bad.FindString(q))
		}
	}
}

// Text from the data (advertiser names, reasons) reaches the page only
// escaped, in tables and inside the SVG alike.
func TestChartTextIsEscaped(t *testing.T) {
	hostile := `</text><script>alert(1)</script> & "quoted" 'x'`
	p := &Page{
		Dir:             "/data/<out>",
		Generated:       time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		Advertisers:     []Advertiser{{Rank: 1, Name: hostile, Ads: 3}},
		AdvertiserChart: BarChart("chart-a", hostile, hostile, hostile, []Bar{{Label: hostile, Value: 3}}, false),
	}
	var buf bytes.Buffer
	if err := p.Render(&buf); err != nil {
		t.Fatal(err)
	}
	s := buf.String()
	if strings.Contains(s, "<script") || strings.Contains(s, "</text><") || strings.Contains(s, "<out>") {
		t.Fatal("data text is not escaped")
	}
	if n := strings.Count(s, "&lt;script&gt;alert(1)&lt;/script&gt;"); n < 5 {
		t.Errorf("escaped text found %d times, want it in the title, desc, label, tooltip and table", n)
	}
}

func TestStackedBarsAndHeatmap(t *testing.T) {
	if StackedBarChart("s", "t", "d", "a", nil, []Series{{Name: "x"}}, nil, nil) != nil {
		t.Error("StackedBarChart without categories is not nil")
	}
	if StackedBarChart("s", "t", "d", "a", []string{"FR"}, []Series{{Name: "x", Values: []float64{0}}}, nil, nil) != nil {
		t.Error("StackedBarChart of zeros is not nil")
	}
	if Heatmap("h", "t", "d", []string{"all"}, []HeatRow{{Label: "f", Cells: []HeatCell{{}}}}) != nil {
		t.Error("Heatmap without a value is not nil")
	}
	var cats []string
	complete, short := make([]float64, 31), make([]float64, 31)
	for i := range 31 {
		cats = append(cats, fmt.Sprintf("C%02d", i))
		complete[i], short[i] = float64(i%4), float64(i%3)
	}
	sb := StackedBarChart("s", "t", "d", "slices", cats, []Series{{Name: "complete", Values: complete}, {Name: "short", Values: short}}, []string{"#0a0", "#a00"}, nil)
	want := 0
	for i := range cats {
		if complete[i] > 0 {
			want++
		}
		if short[i] > 0 {
			want++
		}
	}
	if got := countMarks(sb); got != want {
		t.Errorf("stacked bars: %d marks, want one per non-zero segment (%d)", got, want)
	}
	var cols []string
	var rows []HeatRow
	valid := 0
	for j := range 32 {
		cols = append(cols, fmt.Sprintf("C%d", j))
	}
	for i, g := range []string{"content", "content", "sponsor", "targeting", "targeting", "targeting"} {
		r := HeatRow{Label: strings.Repeat("field_", i+1), Group: g}
		for j := range cols {
			if (i+j)%5 == 0 {
				r.Cells = append(r.Cells, HeatCell{})
				continue
			}
			v := float64(j) / float64(len(cols))
			r.Cells = append(r.Cells, HeatCell{Valid: true, Value: v, Label: percent(v), Tip: "tip"})
			valid++
		}
		rows = append(rows, r)
	}
	hm := Heatmap("h", "t", "d", cols, rows)
	if got := countMarks(hm); got != valid {
		t.Errorf("heat map: %d marks, want one per cell with a value (%d)", got, valid)
	}
	for _, c := range []*Chart{sb, hm} {
		for _, r := range c.Marks {
			if r.X < 0 || r.Y < 0 || r.X+r.W > c.Width+0.01 || r.Y+r.H > c.Height+0.01 || r.W <= 0 || r.H <= 0 {
				t.Errorf("%s: mark %+v outside %gx%g", c.ID, r, c.Width, c.Height)
			}
		}
		for _, x := range c.Texts {
			if x.Y < 0 || x.Y > c.Height || x.X < 0 || x.X > c.Width {
				t.Errorf("%s: text %q at (%g, %g) outside %gx%g", c.ID, x.Text, x.X, x.Y, c.Width, c.Height)
			}
		}
	}
	// Group headings: one per topic, in row order.
	var heads []string
	for _, x := range hm.Texts {
		if x.Class == "ptitle" {
			heads = append(heads, x.Text)
		}
	}
	if strings.Join(heads, ",") != "content,sponsor,targeting" {
		t.Errorf("heat map group headings %v", heads)
	}
}

func TestHeatColorAndPercent(t *testing.T) {
	if got := heatColor(1); got != "#e6eef5" {
		t.Errorf("heatColor(all sent) = %s", got)
	}
	if got := heatColor(0); got != "#9e1b24" {
		t.Errorf("heatColor(none sent) = %s", got)
	}
	if heatColor(0.97) == heatColor(1) {
		t.Error("3% missing looks the same as nothing missing")
	}
	for in, want := range map[float64]string{0: "0%", 1: "100%", 0.5: "50%", 0.9996: "99.9%", 0.995: "99.5%", 0.0001: "0.1%", 0.255: "26%"} {
		if got := percent(in); got != want {
			t.Errorf("percent(%g) = %q, want %q", in, got, want)
		}
	}
}

// Folders whose every shard is done but whose data is not verified complete:
// the banner must not say "Complete harvest", and says why in words.
func TestDoneIsNotComplete(t *testing.T) {
	for _, tc := range []struct {
		folder, level string
		want          []string
	}{
		{"done-provisional", "warn", []string{
			"Every shard done, but provisional",
			"Provisional: ads 1 of 3 shards, ad-reports 1 of 1 shards cover days that were less than 3 days old",
			"on or after 2024-03-04",
		}},
		{"done-unaudited", "note", []string{
			"Every shard done; not all of it can be verified",
			"Not audited: this folder has no coverage table",
		}},
	} {
		t.Run(tc.folder, func(t *testing.T) {
			dir := t.TempDir()
			b, err := os.ReadFile(filepath.Join("testdata", tc.folder, "manifest.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			p, err := Build(context.Background(), dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !p.Status.Complete || p.Status.Level != tc.level {
				t.Errorf("status %+v, want complete shards at level %s", p.Status, tc.level)
			}
			var buf bytes.Buffer
			if err := p.Render(&buf); err != nil {
				t.Fatal(err)
			}
			s := buf.String()
			banner := s[strings.Index(s, `id="status"`):strings.Index(s, `<div class="cards">`)]
			if !strings.Contains(s, `<section class="banner `+tc.level+`" id="status">`) {
				t.Errorf("banner is not %s: %.200s", tc.level, banner)
			}
			if strings.Contains(s, "Complete harvest") || strings.Contains(s, `<div class="value">Complete</div>`) {
				t.Error("the page calls the harvest complete")
			}
			for _, w := range tc.want {
				if !strings.Contains(html.UnescapeString(banner), w) {
					t.Errorf("banner lacks %q: %s", w, banner)
				}
			}
		})
	}
}
