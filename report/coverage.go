package report

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"adharvest/job"
	"adharvest/manifest"
)

// The sections that say how far the data can be trusted: the coverage audit
// (coverage-by-country, coverage-gaps), the items the API sent that could not
// be read (unreadable-items) and the fields it left out (field-completeness).

// Coverage statuses of a slice, most serious first, as the coverage table
// writes them (package crawl).
var coverageStatuses = []string{"short", "empty_pages", "capped", "pending", "provisional", "unverified", "complete"}

// statusColor is each status' colour in the coverage chart.
var statusColor = map[string]string{
	"complete":    "#59a14f",
	"short":       "#e15759",
	"empty_pages": "#f28e2b",
	"capped":      "#b07aa1",
	"pending":     "#9c755f",
	"provisional": "#edc948",
	"unverified":  "#bab0ac",
}

// statusWords says what a status means, in the words the page uses.
var statusWords = map[string]string{
	"complete":    "hold what ad/report counts",
	"short":       "hold fewer ads than ad/report counts, even after being queried again in halves",
	"empty_pages": "ended on the empty-page guard (pages that stayed empty while the API said there was more)",
	"capped":      "ended on the page bound, so they may hold fewer items than exist",
	"pending":     "are not harvested yet",
	"provisional": fmt.Sprintf("cover days that were less than %d days old when harvested; ads may still be arriving, and the next run harvests them again", provisionalDays),
	"unverified":  "have no exact ad/report count (a search term, all countries at once, or commercial content), so nobody can tell whether the API sent all they hold",
}

// provisionalDays is crawl.ProvisionalDays, as the page explains it.
const provisionalDays = 3

// maxGaps is how many slices the gaps table lists.
const maxGaps = 200

// CoverageView is the coverage section.
type CoverageView struct {
	Has      bool // the folder has a coverage table with rows
	Slices   int
	Statuses []StatusCount
	Reported int64
	Verified int64
	Share    string // Verified / Reported, "" without reports
	Summary  string
	Chart    *Chart
	Gaps     []CoverageGap
	GapsMore int  // slices left out of the table
	GapsOpen bool // the table starts unfolded: something is short or provisional
	// GapReasons is set when a listed slice has a reason (the table shows
	// the column).
	GapReasons bool
	Missing    string
	// ManifestNote compares the table's overall figure with manifest.json's.
	ManifestNote string
}

// StatusCount is how many slices have one status.
type StatusCount struct {
	Status string
	Slices int
	Words  string
	Color  string
}

// CoverageGap is one slice that is not verified complete.
type CoverageGap struct {
	Dataset, Country, Window, Term, Status string
	Reported, Harvested, Missing           string
	Reason, SliceID                        string
	Serious                                bool // short, cut off or pending
}

// UnreadableRow is one dataset, endpoint and partition of the rejects table.
type UnreadableRow struct {
	Dataset, Endpoint, Partition string
	Items, Errors                int64
	Example                      string
}

// FieldRow is one field of one dataset, over every country.
type FieldRow struct {
	Dataset, Topic, Field, AppliesTo string
	Rows, Present                    int64
	Share                            string
	Low                              bool   // missing in more than 5% of its rows
	Lowest                           string // the country where it is missing most, with its share
}

// Withheld is the "what the API withholds" section.
type Withheld struct {
	Fields  []FieldRow
	Charts  []*Chart
	Summary []WithheldLine
}

// WithheldLine is one dataset's most withheld field of each of the
// Commission's topics (content, sponsor, targeting).
type WithheldLine struct {
	Dataset string
	Items   []WithheldItem
}

// WithheldItem is one field and how often it is missing.
type WithheldItem struct {
	Topic, Field, Missing, Unit string
}

func (p *Page) coverage(ctx context.Context, db *sql.DB) error {
	cv := &p.Coverage
	type countryStatus struct{ slices, ads, content int }
	byCountry := map[string]map[string]*countryStatus{}
	statuses := map[string]int{}
	err := run(ctx, db, "coverage-by-country", 0, func(r record) error {
		c, st, n := r.str("country_code"), r.str("status"), int(r.int("slices"))
		if byCountry[c] == nil {
			byCountry[c] = map[string]*countryStatus{}
		}
		x := byCountry[c][st]
		if x == nil {
			x = &countryStatus{}
			byCountry[c][st] = x
		}
		x.slices += n
		if r.str("dataset") == job.CommercialContent {
			x.content += n
		} else {
			x.ads += n
		}
		statuses[st] += n
		cv.Slices += n
		if rep := r.num("reported"); rep.Valid && (st == "complete" || st == "short") {
			cv.Reported += rep.Int64
		}
		cv.Verified += r.int("verified")
		return nil
	})
	if err != nil {
		return err
	}
	cv.Has = cv.Slices > 0
	mc := p.manifestCoverage()
	if !cv.Has {
		switch {
		case mc != nil && mc.Slices > 0:
			// The table is gone but the manifest has the figure: the
			// banner still tells it.
			cv.Missing = fmt.Sprintf("No data for this dataset: the coverage table is missing from this folder, although manifest.json records %s slices (%s).", Int(int64(mc.Slices)), statusList(mc.Statuses))
		case !p.AdsInJob && !p.inJob(job.CommercialContent):
			cv.Missing = "No data for this dataset: the job asked for neither ads nor commercial-content, the datasets the coverage audit checks."
		case p.Manifest != nil && len(p.Manifest.Runs) > 0 && p.Manifest.Coverage == nil:
			cv.Missing = "No data for this dataset: this folder has no coverage table, so it was harvested by an adharvest that did not audit coverage yet; the next run of adharvest harvest writes it."
		default:
			cv.Missing = "No data for this dataset: the coverage table has no slice yet."
		}
		return nil
	}
	for _, st := range orderedStatuses(statuses) {
		cv.Statuses = append(cv.Statuses, StatusCount{Status: st, Slices: statuses[st], Words: statusWords[st], Color: statusColor[st]})
	}
	if cv.Reported > 0 {
		cv.Share = percent(float64(cv.Verified) / float64(cv.Reported))
	}
	cv.Summary = p.coverageSummary()
	// The harvest writes the table and the manifest's overall figure at
	// the end of every run: say so when they disagree.
	if mc != nil && mc.Slices > 0 {
		same := mc.Slices == cv.Slices && mc.Reported == cv.Reported && mc.Verified == cv.Verified
		for st, n := range mc.Statuses {
			same = same && statuses[st] == n
		}
		if same {
			cv.ManifestNote = "manifest.json records the same overall figure."
		} else {
			cv.ManifestNote = fmt.Sprintf("manifest.json records a different overall figure: %s slices (%s), %s of %s ads × country reported. The numbers on this page are the coverage table's, one row per slice, as adharvest sql shows them.",
				Int(int64(mc.Slices)), statusList(mc.Statuses), Int(mc.Verified), Int(mc.Reported))
		}
	}

	// The chart: slices per country, stacked by status.
	codes := make([]string, 0, len(byCountry))
	for c := range byCountry {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	present := orderedStatuses(statuses)
	slices.Reverse(present) // complete at the base, the most serious on top
	var series []Series
	var colors []string
	tips := make([][]string, len(present))
	for i, st := range present {
		s := Series{Name: st, Values: make([]float64, len(codes))}
		tips[i] = make([]string, len(codes))
		for j, c := range codes {
			x := byCountry[c][st]
			if x == nil {
				continue
			}
			s.Values[j] = float64(x.slices)
			var parts []string
			if x.ads > 0 {
				parts = append(parts, fmt.Sprintf("ads %d", x.ads))
			}
			if x.content > 0 {
				parts = append(parts, fmt.Sprintf("commercial-content %d", x.content))
			}
			tips[i][j] = fmt.Sprintf("%s, %s: %d slice(s) (%s)", c, st, x.slices, strings.Join(parts, ", "))
		}
		series = append(series, s)
		colors = append(colors, statusColor[st])
	}
	cv.Chart = StackedBarChart("chart-coverage", "Slices per country, by coverage status",
		"Stacked bar chart, one bar per country: the slices of the harvest (a dataset, country and date window queried as one search; ads and commercial content together) by coverage status: complete (what ad/report counts), short, cut off, pending, provisional (recent days) or unverified (no exact report).",
		"slices", codes, series, colors, tips)

	// The table: every slice that is not verified complete.
	total := 0
	err = run(ctx, db, "coverage-gaps", 0, func(r record) error {
		total++
		if len(cv.Gaps) >= maxGaps {
			return nil
		}
		g := CoverageGap{Dataset: r.str("dataset"), Country: r.str("country_code"), Term: r.str("search_term"), Status: r.str("status"),
			Reason: strings.Join(strings.Fields(r.str("reason")), " "), SliceID: r.str("slice_id")}
		if from, ok := r.date("window_start"); ok {
			to, _ := r.date("window_end")
			g.Window = from.Format("2006-01-02") + " to " + to.Format("2006-01-02")
		}
		if rep := r.num("reported"); rep.Valid {
			g.Reported = Int(rep.Int64)
		} else {
			g.Reported = "–"
		}
		g.Harvested = Int(r.int("harvested"))
		if m := r.num("missing"); m.Valid && m.Int64 > 0 {
			g.Missing = Int(m.Int64)
		}
		switch g.Status {
		case "short", "empty_pages", "capped", "pending":
			g.Serious = true
		}
		if g.Serious || g.Status == "provisional" {
			cv.GapsOpen = true
		}
		cv.GapReasons = cv.GapReasons || g.Reason != ""
		cv.Gaps = append(cv.Gaps, g)
		return nil
	})
	if err != nil {
		return err
	}
	cv.GapsMore = total - len(cv.Gaps)
	return nil
}

// orderedStatuses lists the statuses with slices, most serious first, then
// any status this version does not know.
func orderedStatuses(statuses map[string]int) []string {
	var out []string
	for _, st := range coverageStatuses {
		if statuses[st] > 0 {
			out = append(out, st)
		}
	}
	var other []string
	for st, n := range statuses {
		if n > 0 && !slices.Contains(coverageStatuses, st) {
			other = append(other, st)
		}
	}
	sort.Strings(other)
	return append(out, other...)
}

// manifestCoverage is manifest.json's overall coverage figure, nil when it
// has none.
func (p *Page) manifestCoverage() *manifest.Coverage {
	if p.Manifest == nil {
		return nil
	}
	return p.Manifest.Coverage
}

// statusList is "30 complete, 36 unverified", most serious first.
func statusList(statuses map[string]int) string {
	var parts []string
	for _, st := range orderedStatuses(statuses) {
		parts = append(parts, fmt.Sprintf("%s %s", Int(int64(statuses[st])), st))
	}
	return strings.Join(parts, ", ")
}

// coverageSummary is the overall figure in one sentence.
func (p *Page) coverageSummary() string {
	cv := &p.Coverage
	statuses := map[string]int{}
	for _, s := range cv.Statuses {
		statuses[s.Status] = s.Slices
	}
	s := fmt.Sprintf("%s slices: %s.", Int(int64(cv.Slices)), statusList(statuses))
	if cv.Reported > 0 {
		s += fmt.Sprintf(" The slices that ad/report counts exactly hold %s of the %s ads × country it reports (%s).", Int(cv.Verified), Int(cv.Reported), cv.Share)
	} else {
		s += " No slice has an exact ad/report count, so none of this harvest can be checked against TikTok's own figures."
	}
	return s
}

// caveats are the banner's lines about a harvest whose shards are all done
// but whose data is not verified complete: what coverage, provisional shards
// and unreadable items say. serious is set when data is known to be missing
// or will change (short, cut off, pending, provisional).
func (p *Page) caveats() (lines []string, serious, provisional bool) {
	// The coverage table's figure, the one the coverage section shows; the
	// manifest's when the table is gone.
	statuses := map[string]int{}
	for _, s := range p.Coverage.Statuses {
		statuses[s.Status] = s.Slices
	}
	slicesN := p.Coverage.Slices
	reported, verified := p.Coverage.Reported, p.Coverage.Verified
	if mc := p.manifestCoverage(); !p.Coverage.Has && mc != nil {
		statuses, slicesN, reported, verified = mc.Statuses, mc.Slices, mc.Reported, mc.Verified
	}
	of := func(n int) string { return fmt.Sprintf("%s of %s slices", Int(int64(n)), Int(int64(slicesN))) }
	if n := statuses["short"]; n > 0 {
		serious = true
		missing := ""
		if d := reported - verified; d > 0 {
			missing = fmt.Sprintf(": %s ads × country that ad/report counts are not in the harvest", Int(d))
		}
		lines = append(lines, fmt.Sprintf("Short: %s hold fewer ads than ad/report counts, even after being queried again in halves%s.", of(n), missing))
	}
	if n := statuses["empty_pages"]; n > 0 {
		serious = true
		lines = append(lines, fmt.Sprintf("Cut off: %s ended on the empty-page guard (pages that stayed empty while the API said there was more), so they may hold fewer ads than exist.", of(n)))
	}
	if n := statuses["capped"]; n > 0 {
		serious = true
		lines = append(lines, fmt.Sprintf("Cut off: %s ended on the page bound, so they may hold fewer items than exist.", of(n)))
	}
	if n := statuses["pending"]; n > 0 {
		serious = true
		lines = append(lines, fmt.Sprintf("Pending: %s are not harvested yet.", of(n)))
	}
	// Provisional: every dataset's shards (ad-reports too), else the slices.
	var prov []string
	if m := p.Manifest; m != nil {
		for _, d := range m.Job.Datasets {
			if c := m.Datasets[d]; c.Provisional > 0 {
				prov = append(prov, fmt.Sprintf("%s %d of %d shards", d, c.Provisional, c.Shards))
			}
		}
	}
	if len(prov) == 0 && statuses["provisional"] > 0 {
		prov = append(prov, of(statuses["provisional"]))
	}
	if len(prov) > 0 {
		provisional = true
		lines = append(lines, fmt.Sprintf("Provisional: %s cover days that were less than %d days old when harvested. Ads may still be arriving there, so these counts will change: the next run of adharvest harvest fetches them again.", strings.Join(prov, ", "), provisionalDays))
	}
	if n := statuses["unverified"]; n > 0 {
		lines = append(lines, fmt.Sprintf("Unverified: %s have no exact ad/report count (search terms, all countries at once, commercial content), so whether the API sent everything they hold cannot be checked.", of(n)))
	}
	if p.UnreadableItems > 0 {
		lines = append(lines, fmt.Sprintf("Unreadable: %s item(s) the API sent could not be decoded and are in no table but rejects (see What each dataset holds).", Int(p.UnreadableItems)))
	}
	if p.Manifest != nil && p.Manifest.Coverage == nil && (p.AdsInJob || p.inJob(job.CommercialContent)) && !p.Coverage.Has {
		lines = append(lines, "Not audited: this folder has no coverage table, so its ads were never checked against ad/report's counts.")
	}
	return lines, serious, provisional
}

func (p *Page) unreadable(ctx context.Context, db *sql.DB) error {
	return run(ctx, db, "unreadable-items", 0, func(r record) error {
		u := UnreadableRow{Dataset: r.str("dataset"), Endpoint: r.str("endpoint"), Partition: orDash(r.str("partition")),
			Items: r.int("items"), Errors: r.int("errors"), Example: Truncate(r.str("example_error"), 160)}
		p.Unreadable = append(p.Unreadable, u)
		p.UnreadableItems += u.Items
		return nil
	})
}

// topicOrder is the order of the topics on the page: the Commission's three
// findings first.
var topicOrder = []string{"content", "sponsor", "targeting", "reach", "creator", "dates and status", "rejection"}

func (p *Page) withheld(ctx context.Context, db *sql.DB) error {
	type key struct{ dataset, field string }
	type cell struct{ rows, present int64 }
	type fieldAgg struct {
		row      FieldRow
		byCC     map[string]cell
		position int
	}
	fields := map[key]*fieldAgg{}
	var order []key
	countrySet := map[string]map[string]bool{}
	err := run(ctx, db, "field-completeness", 0, func(r record) error {
		k := key{r.str("dataset"), r.str("field")}
		f := fields[k]
		if f == nil {
			f = &fieldAgg{row: FieldRow{Dataset: k.dataset, Topic: r.str("topic"), Field: k.field, AppliesTo: r.str("applies_to")}, byCC: map[string]cell{}, position: len(order)}
			fields[k] = f
			order = append(order, k)
		}
		c := r.str("country_code")
		if c == "" {
			c = "?"
		}
		rows, present := r.int("rows"), r.int("present")
		f.row.Rows += rows
		f.row.Present += present
		x := f.byCC[c]
		x.rows += rows
		x.present += present
		f.byCC[c] = x
		if countrySet[k.dataset] == nil {
			countrySet[k.dataset] = map[string]bool{}
		}
		countrySet[k.dataset][c] = true
		return nil
	})
	if err != nil || len(order) == 0 {
		return err
	}
	rank := func(s string, list []string) int {
		if i := slices.Index(list, s); i >= 0 {
			return i
		}
		return len(list)
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := fields[order[i]], fields[order[j]]
		if a.row.Dataset != b.row.Dataset {
			return rank(a.row.Dataset, job.KnownDatasets) < rank(b.row.Dataset, job.KnownDatasets)
		}
		if a.row.Topic != b.row.Topic {
			return rank(a.row.Topic, topicOrder) < rank(b.row.Topic, topicOrder)
		}
		return a.position < b.position
	})
	w := &p.Withheld
	var datasets []string
	for _, k := range order {
		f := fields[k]
		if f.row.Rows > 0 {
			share := float64(f.row.Present) / float64(f.row.Rows)
			f.row.Share = percent(share)
			f.row.Low = 1-share > 0.05
		}
		lowest, low := "", 2.0
		for _, c := range sortedKeys(f.byCC) {
			x := f.byCC[c]
			if x.rows == 0 {
				continue
			}
			if s := float64(x.present) / float64(x.rows); s < low {
				lowest, low = c, s
			}
		}
		if lowest != "" && len(f.byCC) > 1 && low < 1 {
			f.row.Lowest = fmt.Sprintf("%s %s", lowest, percent(low))
		}
		w.Fields = append(w.Fields, f.row)
		if !slices.Contains(datasets, k.dataset) {
			datasets = append(datasets, k.dataset)
		}
	}

	// One heat map per dataset: fields by country.
	for _, d := range datasets {
		codes := sortedKeys(countrySet[d])
		var rows []HeatRow
		for _, k := range order {
			if k.dataset != d {
				continue
			}
			f := fields[k]
			label := f.row.Field
			if f.row.AppliesTo != "all" {
				label += " (" + f.row.AppliesTo + ")"
			}
			hr := HeatRow{Label: label, Group: f.row.Topic, Cells: make([]HeatCell, len(codes)+1)}
			unit := rowUnit(d, f.row.AppliesTo)
			hr.Cells[0] = heatCell("all countries", f.row.Field, f.row.Rows, f.row.Present, unit)
			for i, c := range codes {
				x, ok := f.byCC[c]
				if ok {
					hr.Cells[i+1] = heatCell(c, f.row.Field, x.rows, x.present, unit)
				}
			}
			rows = append(rows, hr)
		}
		cols := append([]string{"all"}, codes...)
		title := fmt.Sprintf("%s: share of rows with each field, per country", d)
		desc := fmt.Sprintf("Heat map of the %s dataset: one row per field, grouped by topic, and one column per country searched, all countries first. Each cell is the share of rows in which the API sent the field; the darker and redder the cell, the more often the field was left out. Empty cells have no row the field applies to.", d)
		if c := Heatmap("chart-fields-"+d, title, desc, cols, rows); c != nil {
			w.Charts = append(w.Charts, c)
		}
	}

	// In words: per dataset, the field of each of the Commission's topics
	// that is missing most often.
	for _, d := range datasets {
		line := WithheldLine{Dataset: d}
		for _, topic := range []string{"content", "sponsor", "targeting"} {
			var worst *FieldRow
			for i := range w.Fields {
				f := &w.Fields[i]
				if f.Dataset != d || f.Topic != topic || f.Rows == 0 || f.Present == f.Rows {
					continue
				}
				// The creative is there when either list is: judge content by both.
				if topic == "content" && (f.Field == "video_urls" || f.Field == "image_urls") && hasField(w.Fields, d, "video_urls or image_urls") {
					continue
				}
				if worst == nil || f.Present*worst.Rows < worst.Present*f.Rows {
					worst = f
				}
			}
			if worst != nil {
				missing := percent(1 - float64(worst.Present)/float64(worst.Rows))
				line.Items = append(line.Items, WithheldItem{Topic: topic, Field: worst.Field, Missing: missing, Unit: rowUnit(d, worst.AppliesTo)})
			}
		}
		if len(line.Items) > 0 {
			w.Summary = append(w.Summary, line)
		}
	}
	return nil
}

func hasField(fields []FieldRow, dataset, field string) bool {
	for _, f := range fields {
		if f.Dataset == dataset && f.Field == field {
			return true
		}
	}
	return false
}

// rowUnit names what one row of field-completeness is, for a dataset.
func rowUnit(dataset, appliesTo string) string {
	switch {
	case dataset == job.CommercialContent:
		return "posts × country"
	case appliesTo == "inactive":
		return "inactive ads × country"
	case appliesTo == "rejected":
		return "rejected ads × country"
	}
	return "ads × country"
}

func heatCell(country, field string, rows, present int64, unit string) HeatCell {
	if rows == 0 {
		return HeatCell{}
	}
	s := float64(present) / float64(rows)
	return HeatCell{Valid: true, Value: s, Label: percent(s),
		Tip: fmt.Sprintf("%s, %s: sent in %s of %s %s (%s)", country, field, Int(present), Int(rows), unit, percent(s))}
}

// percent formats a share in whole percents, with one decimal near the ends
// so that a share above 99% but below all is never shown as 100%, nor one
// above none as 0%.
func percent(s float64) string {
	v := s * 100
	switch {
	case v > 0 && v < 1:
		return fmt.Sprintf("%.1f%%", math.Max(math.Ceil(v*10)/10, 0.1))
	case v > 99 && v < 100:
		return fmt.Sprintf("%.1f%%", math.Min(math.Floor(v*10)/10, 99.9))
	}
	return fmt.Sprintf("%.0f%%", v)
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
