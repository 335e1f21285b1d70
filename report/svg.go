package report

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
)

// The SVG charts are computed here as plain geometry (a Chart of rectangles,
// lines, paths, circles and texts) and written out by the "svg" template in
// report.html.tmpl, so that html/template escapes every piece of text that
// came from the data (advertiser names, rejection reasons) exactly once.
//
// Every element that encodes a data value carries the class "mark"; the tests
// and scripts/domcheck count those to tell a chart with data from an empty
// frame.

// Chart is one inline SVG figure.
type Chart struct {
	ID     string // unique in the page, for aria-labelledby
	Title  string // visible title and the accessible <title>
	Desc   string // the accessible <desc>: what the chart shows, in words
	Width  float64
	Height float64

	Bands   []Rect // background highlights, drawn first
	Grid    []Line // gridlines
	Marks   []Rect // bars (class "mark")
	Paths   []Path // lines of a line chart (class "mark")
	Points  []Dot  // points of a line chart (class "mark")
	Axes    []Line // axis lines and ticks
	Texts   []Text // labels, tick labels, values, legend entries
	Legend  []Rect // legend swatches (no class "mark": they are not data)
	Caption string // a note under the chart, e.g. "4 other countries not shown"
}

// Rect is a rectangle; Tip becomes its <title> (a tooltip and an accessible name).
type Rect struct {
	X, Y, W, H float64
	Fill       string
	Class      string
	Tip        string
}

// Line is a straight line.
type Line struct {
	X1, Y1, X2, Y2 float64
	Class          string
}

// Path is a polyline.
type Path struct {
	Class  string // "mark", or "mark ref" for a reference series
	D      string
	Stroke string
	Dash   bool
	Tip    string
}

// Dot is a point on a line.
type Dot struct {
	Class   string
	X, Y, R float64
	Fill    string
	Hollow  bool // drawn as a ring: a partial week
	Tip     string
}

// Text is a label. Anchor is start, middle or end.
type Text struct {
	X, Y   float64
	Anchor string
	Class  string
	Text   string
	Rotate float64 // degrees, about (X, Y)
}

// Palette is Tableau 10: distinct hues that stay readable on white and for
// the common colour-vision deficiencies in the order used here.
var Palette = []string{"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"}

const (
	chartWidth = 960.0
	fontSize   = 12.0
	charWidth  = 6.8  // average advance of a 12px sans-serif character
	titleY     = 22.0 // baseline of the visible title
)

// textWidth estimates how wide s is when set at 12px.
func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charWidth }

// Truncate shortens s to at most n characters, ending in an ellipsis.
func Truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// seriesTicks is the value axis shared by every series of a chart: about n
// nice ticks from zero past the largest value, and the top tick.
func seriesTicks(series []Series, n int) (ticks []float64, top float64) {
	maxV := 0.0
	for _, s := range series {
		for _, v := range s.Values {
			maxV = math.Max(maxV, v)
		}
	}
	ticks = niceTicks(maxV, n)
	return ticks, ticks[len(ticks)-1]
}

// niceTicks returns about n round tick values from 0 to at least max.
func niceTicks(max float64, n int) []float64 {
	if max <= 0 || math.IsNaN(max) || math.IsInf(max, 0) {
		max = 1
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m == 2.5 && mag < 10 {
			continue // counts: no ticks at 2.5 or 0.25
		}
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	if step < 1 {
		step = 1 // counts are integers: no ticks at 0.5
	}
	top := math.Ceil(max/step) * step
	var ticks []float64
	for v := 0.0; v <= top+step/2; v += step {
		ticks = append(ticks, v)
	}
	return ticks
}

// Num formats a count with thousands separators; with short set, values from
// 1,000 up are abbreviated (1.5K, 10M) as on axis ticks.
func Num(v float64, short bool) string {
	if short {
		switch a := math.Abs(v); {
		case a >= 1e9:
			return trimZero(v/1e9) + "B"
		case a >= 1e6:
			return trimZero(v/1e6) + "M"
		case a >= 1e3:
			return trimZero(v/1e3) + "K"
		}
	}
	if v != math.Trunc(v) {
		return fmt.Sprintf("%.1f", v)
	}
	return Int(int64(v))
}

func trimZero(v float64) string {
	s := fmt.Sprintf("%.1f", v)
	return strings.TrimSuffix(s, ".0")
}

// Int formats n with thousands separators.
func Int(n int64) string {
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func newChart(id, title, desc string) *Chart {
	c := &Chart{ID: id, Title: title, Desc: desc, Width: chartWidth}
	c.Texts = append(c.Texts, Text{X: 0, Y: titleY, Anchor: "start", Class: "ctitle", Text: title})
	return c
}

// legend lays out swatches and names left to right from (x, y), wrapping at
// the chart width, and returns the y below it.
func (c *Chart) legend(x, y float64, names, colors []string) float64 {
	x0 := x
	for i, n := range names {
		w := 14 + 6 + textWidth(n) + 18
		if x+w > c.Width && x > x0 {
			x = x0
			y += 20
		}
		c.Legend = append(c.Legend, Rect{X: x, Y: y - 10, W: 14, H: 12, Fill: colors[i%len(colors)], Class: "swatch"})
		c.Texts = append(c.Texts, Text{X: x + 20, Y: y, Anchor: "start", Class: "legend", Text: n})
		x += w
	}
	return y + 12
}

// Bar is one bar of a BarChart.
type Bar struct {
	Label string // shown (truncated if long)
	Value float64
	Tip   string // full text for the tooltip; Label when empty
}

// BarChart is a horizontal bar chart, one bar per item, in the given order.
// With labelsAbove, each label gets its own line above its bar, which suits
// long labels such as rejection reasons. It returns nil when there are no
// bars, so that callers show a "no data" note instead of an empty frame.
func BarChart(id, title, desc, axisLabel string, bars []Bar, labelsAbove bool) *Chart {
	if len(bars) == 0 {
		return nil
	}
	c := newChart(id, title, desc)
	maxV := 0.0
	for _, b := range bars {
		maxV = math.Max(maxV, b.Value)
	}
	ticks := niceTicks(maxV, 5)
	top := ticks[len(ticks)-1]

	const right = 70.0 // room for the value label after the longest bar
	left := 0.0
	rowH, barH := 24.0, 16.0
	maxLabel := 0
	if labelsAbove {
		rowH, barH = 40.0, 14.0
		maxLabel = 130
		left = 4
	} else {
		maxLabel = 32
		for _, b := range bars {
			left = math.Max(left, textWidth(Truncate(b.Label, maxLabel)))
		}
		left = math.Min(left+12, c.Width*0.4)
	}
	y0 := titleY + 24.0
	plotW := c.Width - left - right
	x := func(v float64) float64 { return left + v/top*plotW }
	for i, b := range bars {
		ry := y0 + float64(i)*rowH
		by := ry + (rowH-barH)/2
		if labelsAbove {
			by = ry + rowH - barH - 4
			c.Texts = append(c.Texts, Text{X: left, Y: by - 5, Anchor: "start", Class: "label", Text: Truncate(b.Label, maxLabel)})
		} else {
			c.Texts = append(c.Texts, Text{X: left - 8, Y: by + barH/2 + 4, Anchor: "end", Class: "label", Text: Truncate(b.Label, maxLabel)})
		}
		tip := b.Tip
		if tip == "" {
			tip = b.Label
		}
		w := math.Max(x(b.Value)-left, 1) // a zero still shows as a hairline
		c.Marks = append(c.Marks, Rect{X: left, Y: by, W: w, H: barH, Fill: Palette[0], Class: "mark", Tip: fmt.Sprintf("%s: %s", tip, Num(b.Value, false))})
		c.Texts = append(c.Texts, Text{X: left + w + 6, Y: by + barH/2 + 4, Anchor: "start", Class: "value", Text: Num(b.Value, false)})
	}
	plotBottom := y0 + float64(len(bars))*rowH + 4
	for _, t := range ticks {
		c.Grid = append(c.Grid, Line{X1: x(t), Y1: y0 - 4, X2: x(t), Y2: plotBottom, Class: "grid"})
		c.Axes = append(c.Axes, Line{X1: x(t), Y1: plotBottom, X2: x(t), Y2: plotBottom + 5, Class: "axis"})
		c.Texts = append(c.Texts, Text{X: x(t), Y: plotBottom + 18, Anchor: "middle", Class: "tick", Text: Num(t, true)})
	}
	c.Axes = append(c.Axes, Line{X1: left, Y1: y0 - 4, X2: left, Y2: plotBottom, Class: "axis"})
	c.Axes = append(c.Axes, Line{X1: left, Y1: plotBottom, X2: left + plotW, Y2: plotBottom, Class: "axis"})
	c.Texts = append(c.Texts, Text{X: left + plotW/2, Y: plotBottom + 36, Anchor: "middle", Class: "axislabel", Text: axisLabel})
	c.Height = plotBottom + 46
	return c
}

// Series is one named sequence of values, aligned with a chart's categories
// or time points.
type Series struct {
	Name   string
	Values []float64
	// Reference draws the series as a wide, pale line under the others, so
	// that a series equal to it stays visible on top (reported counts under
	// harvested ones).
	Reference bool
}

// GroupedBarChart draws, for every category, one vertical bar per series side
// by side. Categories whose highlight is set get a shaded band and a red,
// bold label (the caller says in desc and caption what that means). It
// returns nil when there is no category.
func GroupedBarChart(id, title, desc, yLabel string, categories []string, series []Series, highlight []bool) *Chart {
	if len(categories) == 0 || len(series) == 0 {
		return nil
	}
	c := newChart(id, title, desc)
	names := make([]string, len(series))
	for i, s := range series {
		names[i] = s.Name
	}
	colors := Palette
	legendBottom := c.legend(0, titleY+26, names, colors)

	ticks, top := seriesTicks(series, 5)
	left := math.Max(textWidth(Num(top, true))+22, 48)
	right := 10.0
	y0 := legendBottom + 14
	plotH := 260.0
	plotW := c.Width - left - right
	y := func(v float64) float64 { return y0 + plotH - v/top*plotH }

	groupW := math.Min(plotW/float64(len(categories)), 110)
	plotW = groupW * float64(len(categories))
	pad := math.Min(groupW*0.2, 16)
	barW := (groupW - pad) / float64(len(series))
	maxCat := 0.0
	for _, cat := range categories {
		maxCat = math.Max(maxCat, textWidth(cat))
	}
	rotate := maxCat+6 > groupW

	for _, t := range ticks {
		c.Grid = append(c.Grid, Line{X1: left, Y1: y(t), X2: left + plotW, Y2: y(t), Class: "grid"})
		c.Texts = append(c.Texts, Text{X: left - 8, Y: y(t) + 4, Anchor: "end", Class: "tick", Text: Num(t, true)})
	}
	for i, cat := range categories {
		gx := left + float64(i)*groupW
		hl := i < len(highlight) && highlight[i]
		if hl {
			c.Bands = append(c.Bands, Rect{X: gx + 1, Y: y0, W: groupW - 2, H: plotH, Fill: "#fde8e8", Class: "band"})
		}
		for j, s := range series {
			v := 0.0
			if i < len(s.Values) {
				v = s.Values[i]
			}
			h := math.Max(y0+plotH-y(v), 0.75)
			c.Marks = append(c.Marks, Rect{X: gx + pad/2 + float64(j)*barW, Y: y0 + plotH - h, W: math.Max(barW-1, 1), H: h,
				Fill: colors[j%len(colors)], Class: "mark", Tip: fmt.Sprintf("%s, %s: %s", cat, s.Name, Num(v, false))})
		}
		cls := "label"
		if hl {
			cls = "label alert"
		}
		lx, ly := gx+groupW/2, y0+plotH+17
		if rotate {
			c.Texts = append(c.Texts, Text{X: lx + 4, Y: ly - 4, Anchor: "end", Class: cls, Text: cat, Rotate: -45})
		} else {
			c.Texts = append(c.Texts, Text{X: lx, Y: ly, Anchor: "middle", Class: cls, Text: cat})
		}
	}
	c.Axes = append(c.Axes, Line{X1: left, Y1: y0, X2: left, Y2: y0 + plotH, Class: "axis"})
	c.Axes = append(c.Axes, Line{X1: left, Y1: y0 + plotH, X2: left + plotW, Y2: y0 + plotH, Class: "axis"})
	c.Texts = append(c.Texts, Text{X: 14, Y: y0 + plotH/2, Anchor: "middle", Class: "axislabel", Text: yLabel, Rotate: -90})
	bottom := y0 + plotH + 28
	if rotate {
		bottom += maxCat * 0.7
	}
	c.Height = bottom + 6
	return c
}

// weekTicks picks which of n evenly spaced weeks, gap pixels apart, get a
// date label so that labels of the given width never overlap.
func weekTicks(n int, gap, width float64) int {
	if n <= 1 || gap <= 0 {
		return 1
	}
	return max(1, int(math.Ceil(width/gap)))
}

// seriesPaths draws a series as solid lines between full weeks and dashed
// lines into and out of partial weeks, plus a dot per week (hollow when the
// week is partial).
func (c *Chart) seriesPaths(xs, ys []float64, partial []bool, color, name string, weeks []time.Time, values []float64, r float64, ref bool) {
	class := "mark"
	if ref {
		class, r = "mark ref", r+2.5
	}
	isPartial := func(i int) bool { return i < len(partial) && partial[i] }
	var d strings.Builder
	dash := false
	flush := func() {
		if d.Len() > 0 {
			c.Paths = append(c.Paths, Path{D: strings.TrimSpace(d.String()), Stroke: color, Dash: dash, Tip: name, Class: class})
			d.Reset()
		}
	}
	for i := 1; i < len(xs); i++ {
		segDash := isPartial(i-1) || isPartial(i)
		if d.Len() > 0 && segDash != dash {
			flush()
		}
		if d.Len() == 0 {
			dash = segDash
			fmt.Fprintf(&d, "M%.1f %.1f ", xs[i-1], ys[i-1])
		}
		fmt.Fprintf(&d, "L%.1f %.1f ", xs[i], ys[i])
	}
	flush()
	for i := range xs {
		tip := fmt.Sprintf("%s, week of %s: %s", name, weeks[i].Format("2006-01-02"), Num(values[i], false))
		if isPartial(i) {
			tip += " (partial week)"
		}
		c.Points = append(c.Points, Dot{X: xs[i], Y: ys[i], R: r, Fill: color, Hollow: isPartial(i), Tip: tip, Class: class})
	}
}

// LineChart draws one line per series over weekly time points, with a dot at
// every point (so a single week still shows), a legend and date ticks that
// never overlap. Weeks marked partial (the harvest's dates cover only some
// of their days) get hollow dots and dashed lines. It returns nil when there
// is no point.
func LineChart(id, title, desc, yLabel string, weeks []time.Time, partial []bool, series []Series) *Chart {
	if len(weeks) == 0 || len(series) == 0 {
		return nil
	}
	c := newChart(id, title, desc)
	names := make([]string, len(series))
	for i, s := range series {
		names[i] = s.Name
	}
	legendBottom := c.legend(0, titleY+26, names, Palette)
	for j, s := range series {
		if s.Reference {
			c.Legend[j].Class = "swatch ref"
		}
	}

	ticks, top := seriesTicks(series, 5)
	left := math.Max(textWidth(Num(top, true))+22, 48)
	right := 24.0
	y0 := legendBottom + 14
	plotH := 240.0
	plotW := c.Width - left - right
	y := func(v float64) float64 { return y0 + plotH - v/top*plotH }
	x := func(i int) float64 {
		if len(weeks) == 1 {
			return left + plotW/2
		}
		return left + 10 + float64(i)/float64(len(weeks)-1)*(plotW-20)
	}

	for _, t := range ticks {
		c.Grid = append(c.Grid, Line{X1: left, Y1: y(t), X2: left + plotW, Y2: y(t), Class: "grid"})
		c.Texts = append(c.Texts, Text{X: left - 8, Y: y(t) + 4, Anchor: "end", Class: "tick", Text: Num(t, true)})
	}
	gap := 0.0
	if len(weeks) > 1 {
		gap = (plotW - 20) / float64(len(weeks)-1)
	}
	step := weekTicks(len(weeks), gap, textWidth("28 Sep")+12)
	lastYear := 0
	for i := 0; i < len(weeks); i += step {
		w := weeks[i]
		c.Axes = append(c.Axes, Line{X1: x(i), Y1: y0 + plotH, X2: x(i), Y2: y0 + plotH + 5, Class: "axis"})
		c.Texts = append(c.Texts, Text{X: x(i), Y: y0 + plotH + 18, Anchor: "middle", Class: "tick", Text: w.Format("2 Jan")})
		if w.Year() != lastYear {
			c.Texts = append(c.Texts, Text{X: x(i), Y: y0 + plotH + 32, Anchor: "middle", Class: "tick year", Text: w.Format("2006")})
			lastYear = w.Year()
		}
	}
	for j, s := range series {
		xs := make([]float64, len(weeks))
		ys := make([]float64, len(weeks))
		vals := make([]float64, len(weeks))
		for i := range weeks {
			if i < len(s.Values) {
				vals[i] = s.Values[i]
			}
			xs[i], ys[i] = x(i), y(vals[i])
		}
		c.seriesPaths(xs, ys, partial, Palette[j%len(Palette)], s.Name, weeks, vals, 3.5, s.Reference)
	}
	c.Axes = append(c.Axes, Line{X1: left, Y1: y0, X2: left, Y2: y0 + plotH, Class: "axis"})
	c.Axes = append(c.Axes, Line{X1: left, Y1: y0 + plotH, X2: left + plotW, Y2: y0 + plotH, Class: "axis"})
	c.Texts = append(c.Texts, Text{X: 14, Y: y0 + plotH/2, Anchor: "middle", Class: "axislabel", Text: yLabel, Rotate: -90})
	c.Texts = append(c.Texts, Text{X: left + plotW/2, Y: y0 + plotH + 48, Anchor: "middle", Class: "axislabel", Text: "week starting (Monday, UTC)"})
	c.Height = y0 + plotH + 58
	return c
}

// SmallMultiples draws one small line chart per series in a grid of cols
// columns, all on the same scales so that panels compare at a glance, each
// titled with the series name and its total. Partial weeks are drawn as in
// LineChart. It returns nil when there is no point.
func SmallMultiples(id, title, desc, yLabel string, weeks []time.Time, partial []bool, series []Series, cols int) *Chart {
	if len(weeks) == 0 || len(series) == 0 {
		return nil
	}
	if cols <= 0 {
		cols = 4
	}
	cols = min(cols, len(series))
	c := newChart(id, title, desc)
	ticks, top := seriesTicks(series, 3)

	const (
		gapX   = 28.0
		head   = 22.0 // panel title
		plotH  = 92.0
		foot   = 34.0 // date labels
		rowGap = 14.0
	)
	axisW := math.Max(textWidth(Num(top, true))+10, 28)
	panelW := (c.Width - 18 - float64(cols-1)*gapX) / float64(cols) // 18: room for the last date label
	plotW := panelW - axisW
	y0 := titleY + 18
	rows := (len(series) + cols - 1) / cols
	for k, s := range series {
		col, row := k%cols, k/cols
		px := float64(col) * (panelW + gapX)
		py := y0 + float64(row)*(head+plotH+foot+rowGap)
		left := px + axisW
		top0 := py + head
		y := func(v float64) float64 { return top0 + plotH - v/top*plotH }
		x := func(i int) float64 {
			if len(weeks) == 1 {
				return left + plotW/2
			}
			return left + 6 + float64(i)/float64(len(weeks)-1)*(plotW-12)
		}
		total := 0.0
		vals := make([]float64, len(weeks))
		for i := range weeks {
			if i < len(s.Values) {
				vals[i] = s.Values[i]
			}
			total += vals[i]
		}
		c.Texts = append(c.Texts, Text{X: left, Y: py + 14, Anchor: "start", Class: "ptitle", Text: Truncate(s.Name, int((plotW-60)/charWidth))})
		c.Texts = append(c.Texts, Text{X: left + plotW, Y: py + 14, Anchor: "end", Class: "value", Text: Num(total, false)})
		for _, t := range ticks {
			c.Grid = append(c.Grid, Line{X1: left, Y1: y(t), X2: left + plotW, Y2: y(t), Class: "grid"})
			c.Texts = append(c.Texts, Text{X: left - 5, Y: y(t) + 4, Anchor: "end", Class: "tick", Text: Num(t, true)})
		}
		c.Axes = append(c.Axes, Line{X1: left, Y1: top0 + plotH, X2: left + plotW, Y2: top0 + plotH, Class: "axis"})
		gap := 0.0
		if len(weeks) > 1 {
			gap = (plotW - 12) / float64(len(weeks)-1)
		}
		step := weekTicks(len(weeks), gap, textWidth("28 Sep")+10)
		for i := 0; i < len(weeks); i += step {
			c.Axes = append(c.Axes, Line{X1: x(i), Y1: top0 + plotH, X2: x(i), Y2: top0 + plotH + 4, Class: "axis"})
			c.Texts = append(c.Texts, Text{X: x(i), Y: top0 + plotH + 16, Anchor: "middle", Class: "tick", Text: weeks[i].Format("2 Jan")})
		}
		xs := make([]float64, len(weeks))
		ys := make([]float64, len(weeks))
		for i := range weeks {
			xs[i], ys[i] = x(i), y(vals[i])
		}
		c.seriesPaths(xs, ys, partial, Palette[0], s.Name, weeks, vals, 2.5, false)
	}
	bottom := y0 + float64(rows)*(head+plotH+foot+rowGap)
	c.Texts = append(c.Texts, Text{X: 0, Y: bottom + 2, Anchor: "start", Class: "axislabel",
		Text: fmt.Sprintf("%s per week starting Monday (UTC), %s to %s; every panel has the same scales", yLabel, weeks[0].Format("2 Jan 2006"), weeks[len(weeks)-1].Format("2 Jan 2006"))})
	c.Height = bottom + 14
	return c
}

// StackedBarChart draws, for every category, one vertical bar made of one
// segment per series, stacked in series order from the axis up, each in its
// colour. tips, when given, are the segments' tooltips by series and
// category. It returns nil when there is no category or every value is zero.
func StackedBarChart(id, title, desc, yLabel string, categories []string, series []Series, colors []string, tips [][]string) *Chart {
	if len(categories) == 0 || len(series) == 0 {
		return nil
	}
	totals := make([]float64, len(categories))
	maxV := 0.0
	for i := range categories {
		for _, s := range series {
			if i < len(s.Values) {
				totals[i] += s.Values[i]
			}
		}
		maxV = math.Max(maxV, totals[i])
	}
	if maxV <= 0 {
		return nil
	}
	if len(colors) == 0 {
		colors = Palette
	}
	c := newChart(id, title, desc)
	names := make([]string, len(series))
	for i, s := range series {
		names[i] = s.Name
	}
	legendBottom := c.legend(0, titleY+26, names, colors)

	ticks := niceTicks(maxV, 5)
	top := ticks[len(ticks)-1]
	left := math.Max(textWidth(Num(top, true))+22, 48)
	y0 := legendBottom + 14
	plotH := 220.0
	plotW := c.Width - left - 10
	y := func(v float64) float64 { return y0 + plotH - v/top*plotH }
	groupW := math.Min(plotW/float64(len(categories)), 72)
	plotW = groupW * float64(len(categories))
	barW := math.Max(groupW*0.7, 2)
	maxCat := 0.0
	for _, cat := range categories {
		maxCat = math.Max(maxCat, textWidth(cat))
	}
	rotate := maxCat+6 > groupW

	for _, t := range ticks {
		c.Grid = append(c.Grid, Line{X1: left, Y1: y(t), X2: left + plotW, Y2: y(t), Class: "grid"})
		c.Texts = append(c.Texts, Text{X: left - 8, Y: y(t) + 4, Anchor: "end", Class: "tick", Text: Num(t, true)})
	}
	for i, cat := range categories {
		gx := left + float64(i)*groupW
		base := 0.0
		for j, s := range series {
			v := 0.0
			if i < len(s.Values) {
				v = s.Values[i]
			}
			if v <= 0 {
				continue
			}
			tip := fmt.Sprintf("%s, %s: %s", cat, s.Name, Num(v, false))
			if j < len(tips) && i < len(tips[j]) && tips[j][i] != "" {
				tip = tips[j][i]
			}
			y1, y2 := y(base+v), y(base)
			c.Marks = append(c.Marks, Rect{X: gx + (groupW-barW)/2, Y: y1, W: barW, H: math.Max(y2-y1, 0.75), Fill: colors[j%len(colors)], Class: "mark", Tip: tip})
			base += v
		}
		c.Texts = append(c.Texts, Text{X: gx + groupW/2, Y: y(totals[i]) - 4, Anchor: "middle", Class: "value", Text: Num(totals[i], true)})
		lx, ly := gx+groupW/2, y0+plotH+17
		if rotate {
			c.Texts = append(c.Texts, Text{X: lx + 4, Y: ly - 4, Anchor: "end", Class: "label", Text: cat, Rotate: -45})
		} else {
			c.Texts = append(c.Texts, Text{X: lx, Y: ly, Anchor: "middle", Class: "label", Text: cat})
		}
	}
	c.Axes = append(c.Axes, Line{X1: left, Y1: y0, X2: left, Y2: y0 + plotH, Class: "axis"})
	c.Axes = append(c.Axes, Line{X1: left, Y1: y0 + plotH, X2: left + plotW, Y2: y0 + plotH, Class: "axis"})
	c.Texts = append(c.Texts, Text{X: 14, Y: y0 + plotH/2, Anchor: "middle", Class: "axislabel", Text: yLabel, Rotate: -90})
	bottom := y0 + plotH + 28
	if rotate {
		bottom += maxCat * 0.7
	}
	c.Height = bottom + 6
	return c
}

// HeatRow is one row of a Heatmap: a label, the group it belongs to (a
// heading is drawn where the group changes) and one cell per column.
type HeatRow struct {
	Label, Group string
	Cells        []HeatCell
}

// HeatCell is one cell: a share from 0 to 1 (Valid false: no value, the cell
// is left blank), the text written in it when there is room, and its tooltip.
type HeatCell struct {
	Valid bool
	Value float64
	Label string
	Tip   string
}

// heatStops is the colour ramp of a Heatmap by share missing (1 - value):
// a pale grey-blue where everything was sent, to a dark red where nothing was.
var heatStops = []struct {
	at      float64
	r, g, b float64
}{{0, 0xe6, 0xee, 0xf5}, {0.05, 0xfc, 0xe6, 0xc4}, {0.25, 0xf9, 0xb9, 0x6f}, {0.6, 0xe0, 0x5a, 0x33}, {1, 0x9e, 0x1b, 0x24}}

// heatColor is the fill of a cell whose value is v (a share sent).
func heatColor(v float64) string {
	m := math.Min(math.Max(1-v, 0), 1)
	for i := 1; i < len(heatStops); i++ {
		a, b := heatStops[i-1], heatStops[i]
		if m <= b.at {
			t := (m - a.at) / (b.at - a.at)
			mix := func(x, y float64) int { return int(math.Round(x + (y-x)*t)) }
			return fmt.Sprintf("#%02x%02x%02x", mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b))
		}
	}
	return "#9e1b24"
}

// Heatmap draws a grid of cells coloured by their share, one row per
// HeatRow and one column per name in cols, with a legend of the colour ramp.
// The first column is drawn apart, wider, with its value written in every
// cell (meant for the total over the other columns). It returns nil when no
// cell has a value.
func Heatmap(id, title, desc string, cols []string, rows []HeatRow) *Chart {
	valid := false
	for _, r := range rows {
		for _, cell := range r.Cells {
			valid = valid || cell.Valid
		}
	}
	if !valid || len(cols) == 0 {
		return nil
	}
	c := newChart(id, title, desc)
	ramp := []float64{1, 0.95, 0.75, 0.5, 0.25, 0}
	names := make([]string, len(ramp))
	colors := make([]string, len(ramp))
	for i, v := range ramp {
		names[i] = fmt.Sprintf("%.0f%% sent", v*100)
		colors[i] = heatColor(v)
	}
	names[len(names)-1] = "0% sent (always left out)"
	legendBottom := c.legend(0, titleY+26, names, colors)

	left := 120.0
	for _, r := range rows {
		left = math.Max(left, textWidth(Truncate(r.Label, 40))+16)
	}
	left = math.Min(left, c.Width*0.35)
	const (
		firstW = 54.0
		gap    = 10.0
		cellH  = 18.0
		pitch  = 20.0
		head   = 24.0
	)
	n := len(cols) - 1
	cw := 0.0
	if n > 0 {
		cw = math.Min(math.Max((c.Width-left-firstW-gap)/float64(n), 12), 44)
	}
	colX := func(j int) (x, w float64) {
		if j == 0 {
			return left, firstW - 2
		}
		return left + firstW + gap + float64(j-1)*cw, cw - 2
	}
	yHead := legendBottom + 22
	for j, name := range cols {
		x, w := colX(j)
		label := name
		if j > 0 && textWidth(label) > w+4 {
			label = Truncate(label, max(int(w/charWidth), 1))
		}
		c.Texts = append(c.Texts, Text{X: x + w/2, Y: yHead, Anchor: "middle", Class: "tick", Text: label})
	}
	y := yHead + 8
	group := ""
	for i, r := range rows {
		if r.Group != "" && (i == 0 || r.Group != group) {
			group = r.Group
			y += 6
			c.Texts = append(c.Texts, Text{X: 0, Y: y + 12, Anchor: "start", Class: "ptitle", Text: r.Group})
			y += head - 6
		}
		c.Texts = append(c.Texts, Text{X: left - 8, Y: y + cellH/2 + 4, Anchor: "end", Class: "label", Text: Truncate(r.Label, 40)})
		for j := range cols {
			if j >= len(r.Cells) || !r.Cells[j].Valid {
				continue
			}
			cell := r.Cells[j]
			x, w := colX(j)
			c.Marks = append(c.Marks, Rect{X: x, Y: y, W: w, H: cellH, Fill: heatColor(cell.Value), Class: "mark", Tip: cell.Tip})
			if cell.Label != "" && (j == 0 || w >= 34) {
				cls := "cellv"
				if 1-cell.Value > 0.45 {
					cls = "cellv dark"
				}
				c.Texts = append(c.Texts, Text{X: x + w/2, Y: y + cellH/2 + 4, Anchor: "middle", Class: cls, Text: cell.Label})
			}
		}
		y += pitch
	}
	c.Height = y + 8
	return c
}
