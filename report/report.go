// Package report writes a one-page HTML summary of an adharvest output folder:
// what the harvest was asked for and whether it is complete (from
// manifest.json), how far its data can be trusted (the coverage audit, the
// items the API sent that could not be read, the fields the API left out),
// and what it holds (from the DuckDB views of package queries): counts per
// dataset, ad volume per country over time, harvested against reported
// counts, top advertisers and rejection reasons.
//
// The banner at the top says "Complete harvest" only when every shard is done
// and every slice of the coverage audit holds what ad/report counts; a
// harvest whose slices are short, cut off, provisional (recent days the next
// run fetches again) or unverified (no exact report) says so in the banner.
//
// The page is self-contained: inline CSS, charts as inline SVG drawn by this
// package (svg.go), no script, no font, image or stylesheet from anywhere
// else, and a Content-Security-Policy that forbids loading any. It can be
// mailed, archived or opened offline and always looks the same.
//
// Every section runs a canned analysis of package queries by name (the same
// SQL that `adharvest sql --query NAME` prints) over the views, never the
// Parquet files, and table counts come from the table registry, so each
// number on the page has one definition and is the one `adharvest sql` and
// the notebooks show.
package report

import (
	"bytes"
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"math"
	"math/big"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"adharvest/countries"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/queries"
	"adharvest/sink"
)

//go:embed report.html.tmpl
var pageTemplate string

// sections are the canned analyses the page is built from, in page order.
var sections = []string{"dataset-summary", "unreadable-items", "coverage-by-country", "coverage-gaps", "ads-per-country-week", "reported-vs-harvested", "field-completeness", "top-advertisers", "rejection-summary", "rejection-reasons", "media-by-country", "monitoring-daily", "publication-latency"}

// tableCounts is the SQL of the rows-per-table section: every table of the
// registry, in its deduplicated view and in its _all view.
func tableCounts() string {
	parts := make([]string, len(sink.Tables))
	for i, t := range sink.Tables {
		q := `"` + t.Name + `"`
		qa := `"` + t.Name + `_all"`
		parts[i] = fmt.Sprintf("SELECT '%s' AS table_name, (SELECT count(*) FROM %s) AS rows, (SELECT count(*) FROM %s) AS fetched", t.Name, q, qa)
	}
	return strings.Join(parts, "\nUNION ALL ") + "\n"
}

// Query returns the SQL of one of the page's queries: a canned analysis by
// name, or "table-counts".
func Query(name string) (string, error) {
	if name == "table-counts" {
		return tableCounts(), nil
	}
	if !slices.Contains(sections, name) {
		return "", fmt.Errorf("report: no query %q", name)
	}
	a, ok := queries.LookupAnalysis(name)
	if !ok {
		return "", fmt.Errorf("report: no canned analysis %q", name)
	}
	return a.SQL, nil
}

// QueryNames lists the page's queries.
func QueryNames() []string { return append([]string{"table-counts"}, sections...) }

// Options tune a report. The zero value is usable.
type Options struct {
	// TopCountries is how many countries get a panel in the weekly chart; 0 means 12.
	TopCountries int
	// TopAdvertisers is how many advertisers are ranked; 0 means 15.
	TopAdvertisers int
	// TopReasons is how many rejection reasons are ranked; 0 means 10.
	TopReasons int
	// DivergeShare is the relative gap between reported and harvested counts
	// above which a country is highlighted; 0 means 0.05 (5%).
	DivergeShare float64
	// Now stamps the page; nil means time.Now.
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.TopCountries <= 0 {
		o.TopCountries = 12
	}
	if o.TopAdvertisers <= 0 {
		o.TopAdvertisers = 15
	}
	if o.TopReasons <= 0 {
		o.TopReasons = 10
	}
	if o.DivergeShare <= 0 {
		o.DivergeShare = 0.05
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// WriteFile builds the report of the output folder dir and writes it to path
// atomically (a reader never sees half a page).
func WriteFile(ctx context.Context, dir, path string, opts Options) error {
	var buf bytes.Buffer
	if err := Write(ctx, &buf, dir, opts); err != nil {
		return err
	}
	return sink.WriteFileAtomic(path, func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	})
}

// Write builds the report of the output folder dir and writes the HTML to w.
func Write(ctx context.Context, w io.Writer, dir string, opts Options) error {
	p, err := Build(ctx, dir, opts)
	if err != nil {
		return err
	}
	return p.Render(w)
}

// Page is everything the template shows.
type Page struct {
	Dir       string
	Generated time.Time
	Version   string // of the tool that harvested, from the manifest

	Manifest    *manifest.Manifest // nil when manifest.json is missing
	ManifestErr string             // why it could not be read
	Scope       Scope
	Status      Status
	Glance      []Card

	Tables   []TableCount
	Datasets []DatasetRow
	RowChart *Chart

	Coverage        CoverageView
	Unreadable      []UnreadableRow
	UnreadableItems int64
	Withheld        Withheld

	Weekly     *Chart
	WeeklyNote string

	Compare        []CountryCompare
	CompareChart   *Chart
	CompareWeekly  *Chart
	CompareNote    string
	CompareSummary string
	CompareOpen    bool // the per-country table starts unfolded
	DivergePct     string

	Advertisers     []Advertiser
	AdvertiserChart *Chart

	// Media is the Creatives section (media.go).
	Media MediaView
	// Monitoring is the Monitoring section (monitoring.go).
	Monitoring MonitoringView

	Rejections      RejectionSummary
	Reasons         []Reason
	ReasonChart     *Chart
	HasAdDetails    bool
	HasAds          bool
	HasReports      bool
	AdsInJob        bool
	DetailsInJob    bool
	ReportsInJob    bool
	AdsNoDataReason string

	withoutDetails int64 // ads that have no detail yet (dataset-summary)
}

// Scope is the job, in words.
type Scope struct {
	Datasets   []string
	Countries  string
	From, To   string
	Terms      []string
	WindowDays int
	Windows    string // how the dates are cut: "windows of 7 days", or planned from ad/report
	MaxCount   int
	Queries    []QueryLine
	APIURL     string
	JobHash    string
	Created    string
	Updated    string
	Runs       []Run
}

// QueryLine describes one query of the job.
type QueryLine struct {
	Countries string
	Dates     string
	Filters   string
}

// Run is one harvest run from the manifest.
type Run struct {
	ID, Started, Ended, Duration, Status, Message string
	Requests                                      int64
	Bad                                           bool
}

// Status says whether the harvest is complete and, if not, what is owed.
type Status struct {
	// Complete is set when every shard of the job is done and the last run
	// ended well. It does not mean the data is: Level says that.
	Complete bool
	// Level is the banner's colour: "good" (complete and every slice
	// verified), "note" (complete, but some slices have no exact report or
	// some items could not be read), "warn" (every shard done, but slices
	// are short, cut off or provisional) or "bad" (not done).
	Level       string
	Headline    string
	Summary     string   // one sentence for a harvest whose shards are all done
	Problems    []string // one line per dataset or condition that is not done
	Caveats     []string // one line per reason the data is not verified complete
	CaveatsLead string   // the sentence before them
	Resume      string   // the command that continues the harvest
	Provisional bool     // recent days are fetched again by the next run
	FinalFrom   string   // the first day on which a run makes them final
	// AnyProvisional is set when a dataset has provisional shards (the
	// shards table shows the column).
	AnyProvisional bool
	DetailsOwed    int64
	Shards         []ShardLine
}

// ShardLine is one dataset's shard counts from the manifest.
type ShardLine struct {
	Dataset                       string
	Shards, Done, Pending, Failed int
	Provisional                   int // done, but harvested again by the next run
	Rows, Requests, MinRequests   int64
	Incomplete                    bool
}

// Card is one number at the top of the page.
type Card struct {
	Label, Value, Note string
	Alert, Wide        bool
}

// TableCount is one view's row counts.
type TableCount struct {
	Table   string
	Rows    int64
	Fetched int64
	Dataset string
}

// DatasetRow is one dataset's coverage.
type DatasetRow struct {
	Dataset     string
	InJob       bool
	Items       int64
	ItemsLabel  string
	Advertisers string
	Creators    string
	Brands      string
	Countries   string
	Dates       string
	Empty       bool
	EmptyNote   string
}

// CountryCompare is one country's reported and harvested ad counts.
type CountryCompare struct {
	Code, Name  string
	Reported    string
	Harvested   string
	Diff        string
	Share       string
	Unfiltered  bool
	Diverges    bool
	Dates       string
	HasReported bool
}

// Advertiser is one ranked advertiser.
type Advertiser struct {
	Rank                  int
	ID                    int64
	Name                  string
	Ads, Countries        int64
	Reach, ReachTypical   string
	FirstShown, LastShown string
}

// RejectionSummary counts detailed and rejected ads.
type RejectionSummary struct {
	Detailed, Rejected, WithReasons, TakenDown int64
	Share                                      string
}

// Reason is one rejection reason.
type Reason struct {
	Text      string
	Ads       int64
	Countries string
}

// Build reads dir's manifest and views and computes the page.
func Build(ctx context.Context, dir string, opts Options) (*Page, error) {
	opts.defaults()
	p := &Page{Dir: dir, Generated: opts.Now().UTC()}
	if abs, err := filepath.Abs(dir); err == nil {
		p.Dir = abs
	}
	m, err := manifest.Read(folder.New(dir).Manifest())
	switch {
	case err == nil:
		p.Manifest = &m
		p.Version = m.Version
	case errors.Is(err, fs.ErrNotExist):
		p.ManifestErr = "there is no manifest.json in this folder, so what was asked for and whether it is complete are unknown"
	default:
		p.ManifestErr = "manifest.json cannot be read (" + err.Error() + "), so what was asked for and whether it is complete are unknown"
	}

	eng, err := queries.Open(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer eng.Close()
	db := eng.DB()

	p.scope()
	if err := p.counts(ctx, db); err != nil {
		return nil, err
	}
	if err := p.unreadable(ctx, db); err != nil {
		return nil, err
	}
	if err := p.coverage(ctx, db); err != nil {
		return nil, err
	}
	if err := p.media(ctx, db); err != nil {
		return nil, err
	}
	if err := p.monitoring(ctx, db); err != nil {
		return nil, err
	}
	if err := p.status(ctx, db); err != nil {
		return nil, err
	}
	if err := p.weekly(ctx, db, opts.TopCountries); err != nil {
		return nil, err
	}
	if err := p.compare(ctx, db, opts.DivergeShare); err != nil {
		return nil, err
	}
	if err := p.withheld(ctx, db); err != nil {
		return nil, err
	}
	if err := p.advertisers(ctx, db, opts.TopAdvertisers); err != nil {
		return nil, err
	}
	if err := p.rejections(ctx, db, opts.TopReasons); err != nil {
		return nil, err
	}
	p.glance()
	return p, nil
}

// run executes one of the page's queries and calls scan for every row, at
// most limit rows when limit is above 0.
func run(ctx context.Context, db *sql.DB, name string, limit int, scan func(record) error) error {
	q, err := Query(name)
	if err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return fmt.Errorf("report query %s: %w", name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	for n := 0; rows.Next() && (limit <= 0 || n < limit); n++ {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("report query %s: %w", name, err)
		}
		r := make(record, len(cols))
		for i, c := range cols {
			r[c] = vals[i]
		}
		if err := scan(r); err != nil {
			return fmt.Errorf("report query %s: %w", name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("report query %s: %w", name, err)
	}
	return nil
}

// record is one result row by column name, as duckdb-go returns the values.
type record map[string]any

func (r record) str(k string) string {
	s, _ := r[k].(string)
	return s
}

func (r record) num(k string) sql.NullInt64 {
	switch v := r[k].(type) {
	case int64:
		return sql.NullInt64{Int64: v, Valid: true}
	case int32:
		return sql.NullInt64{Int64: int64(v), Valid: true}
	case *big.Int:
		return sql.NullInt64{Int64: v.Int64(), Valid: v.IsInt64()}
	case float64:
		return sql.NullInt64{Int64: int64(v), Valid: true}
	}
	return sql.NullInt64{}
}

func (r record) int(k string) int64 { return r.num(k).Int64 }

func (r record) boolean(k string) bool {
	b, _ := r[k].(bool)
	return b
}

func (r record) date(k string) (time.Time, bool) {
	t, ok := r[k].(time.Time)
	if !ok {
		return time.Time{}, false
	}
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC), true
}

func (p *Page) inJob(dataset string) bool {
	if p.Manifest == nil {
		return true // unknown: assume asked for
	}
	return p.Manifest.Job.Has(dataset)
}

func (p *Page) scope() {
	p.AdsInJob = p.inJob(job.Ads)
	p.DetailsInJob = p.inJob(job.AdDetails)
	p.ReportsInJob = p.inJob(job.AdReports)
	if p.Manifest == nil {
		return
	}
	m := p.Manifest
	s := &p.Scope
	s.Datasets = m.Job.Datasets
	s.Countries = describeCountries(m.Job.Countries())
	s.From, s.To = m.Job.Span()
	s.Terms = m.Job.Terms()
	s.WindowDays = m.Job.WindowDays
	if s.WindowDays > 0 {
		s.Windows = fmt.Sprintf("windows of %d days", s.WindowDays)
	} else {
		n := m.Job.SliceAds
		if n <= 0 {
			n = job.DefaultSliceAds
		}
		s.Windows = fmt.Sprintf("slices planned from ad/report, at most %s ads each", Int(int64(n)))
	}
	s.MaxCount = m.Job.MaxCount
	s.APIURL = m.APIURL
	s.JobHash = m.JobHash
	s.Created = stamp(m.Created)
	s.Updated = stamp(m.UpdatedAt)
	for _, q := range m.Job.Queries {
		var f []string
		if len(q.Terms) > 0 {
			t := "terms " + quoteList(q.Terms)
			if q.SearchType != "" {
				t += " (" + q.SearchType + ")"
			}
			f = append(f, t)
		}
		if len(q.AdvertiserIDs) > 0 {
			ids := make([]string, len(q.AdvertiserIDs))
			for i, id := range q.AdvertiserIDs {
				ids[i] = fmt.Sprint(id)
			}
			f = append(f, "advertiser ids "+strings.Join(ids, ", "))
		}
		if len(q.CreatorUsernames) > 0 {
			f = append(f, "creators "+strings.Join(q.CreatorUsernames, ", "))
		}
		if q.ReachMin != "" || q.ReachMax != "" {
			f = append(f, "reach "+orDash(q.ReachMin)+" to "+orDash(q.ReachMax))
		}
		if len(f) == 0 {
			f = append(f, "none (everything in these countries and dates)")
		}
		dates := q.From + " to " + q.To
		if q.ToWord != "" {
			dates += " (asked up to " + q.ToWord + ": every run moves on)"
		}
		s.Queries = append(s.Queries, QueryLine{Countries: describeCountries(q.Countries), Dates: dates, Filters: strings.Join(f, "; ")})
	}
	for _, r := range m.Runs {
		run := Run{ID: r.RunID, Started: stamp(r.Started), Status: r.Status, Message: strings.Join(strings.Fields(r.Message), " "), Requests: r.Requests}
		if !r.Ended.IsZero() {
			run.Ended = stamp(r.Ended)
			run.Duration = r.Ended.Sub(r.Started).Round(time.Second).String()
		}
		run.Bad = r.Status != "complete"
		s.Runs = append(s.Runs, run)
	}
}

func (p *Page) counts(ctx context.Context, db *sql.DB) error {
	// The dataset whose shards write each table.
	owner := map[string]string{
		"ads": job.Ads, "ad_details": job.AdDetails, "ad_reports": job.AdReports,
		"commercial_content": job.CommercialContent, "advertisers": job.Advertisers,
	}
	dataTable := map[string]bool{}
	err := run(ctx, db, "table-counts", 0, func(r record) error {
		t := TableCount{Table: r.str("table_name"), Rows: r.int("rows"), Fetched: r.int("fetched")}
		if tb, ok := sink.Lookup(t.Table); ok {
			switch o := tb.OwnerName(); {
			case o == "*":
				t.Dataset = "(every dataset)"
			case owner[o] != "":
				t.Dataset = owner[o]
				dataTable[t.Table] = true
			case tb.Derived:
				t.Dataset = "(written at the end of each run)"
			}
		}
		p.Tables = append(p.Tables, t)
		return nil
	})
	if err != nil {
		return err
	}
	// The chart shows the tables of the datasets: not rejects, coverage or
	// the other tables a run derives (the coverage section has those).
	var bars []Bar
	for _, t := range p.Tables {
		if t.Rows > 0 && dataTable[t.Table] {
			bars = append(bars, Bar{Label: t.Table, Value: float64(t.Rows)})
		}
	}
	p.RowChart = BarChart("chart-rows", "Rows per table", "Horizontal bar chart of the number of rows in each dataset table's view (one row per key, the newest fetch); tables without rows, rejects and the tables a run derives (coverage) are left out.", "rows (one per key)", bars, false)

	labels := map[string]string{
		job.Ads: "distinct ads", job.AdDetails: "ads detailed", job.AdReports: "ads × country reported (daily counts summed)",
		job.CommercialContent: "distinct posts", job.Advertisers: "advertisers",
	}
	found := map[string]record{}
	if err := run(ctx, db, "dataset-summary", 0, func(r record) error { found[r.str("dataset")] = r; return nil }); err != nil {
		return err
	}
	// A dataset without data has no row in dataset-summary.
	for _, name := range job.KnownDatasets {
		if name == job.Media {
			continue // not a table of items: the media section says what is kept
		}
		r, ok := found[name]
		if !ok {
			r = record{"dataset": name, "items": int64(0)}
		}
		d := DatasetRow{Dataset: r.str("dataset"), Items: r.int("items")}
		d.InJob = p.inJob(d.Dataset)
		d.ItemsLabel = labels[d.Dataset]
		d.Advertisers, d.Creators, d.Brands = nullInt(r.num("advertisers")), nullInt(r.num("creators")), nullInt(r.num("brands"))
		d.Countries = nullInt(r.num("countries"))
		if first, ok := r.date("first_date"); ok {
			last, _ := r.date("last_date")
			d.Dates = first.Format("2006-01-02") + " to " + last.Format("2006-01-02")
		}
		if d.Items == 0 {
			d.Empty = true
			d.EmptyNote = p.noData(d.Dataset)
		}
		p.Datasets = append(p.Datasets, d)
		if d.Dataset == job.Ads {
			p.HasAds = d.Items > 0
			p.withoutDetails = r.int("without_details")
		}
		if d.Dataset == job.AdDetails {
			p.HasAdDetails = d.Items > 0
		}
		if d.Dataset == job.AdReports {
			p.HasReports = d.Items > 0
		}
	}
	return nil
}

// noData explains why a dataset holds nothing.
func (p *Page) noData(dataset string) string {
	if !p.inJob(dataset) {
		return "No data for this dataset: the job did not ask for " + dataset + "."
	}
	if p.Manifest != nil {
		c := p.Manifest.Datasets[dataset]
		if c.Pending+c.Failed > 0 {
			return fmt.Sprintf("No data for this dataset yet: %d of %d shards are still pending and %d failed.", c.Pending, c.Shards, c.Failed)
		}
	}
	return "No data for this dataset: the API returned nothing for this job."
}

func (p *Page) status(ctx context.Context, db *sql.DB) error {
	st := &p.Status
	if p.AdsInJob && p.DetailsInJob {
		st.DetailsOwed = p.withoutDetails
	}
	st.Resume = "adharvest harvest --out " + p.Dir
	if p.Manifest == nil {
		st.Level, st.Headline = "bad", "Provenance unknown"
		st.Problems = append(st.Problems, p.ManifestErr+".")
		return nil
	}
	m := p.Manifest
	if s := m.Settings; s != nil && s.DetailBudget > 0 {
		// A plain resume keeps the budget too; said here so that the
		// command pasted elsewhere cannot spend the whole detail backlog.
		st.Resume += fmt.Sprintf(" --detail-budget %d", s.DetailBudget)
	}
	for _, d := range m.Job.Datasets {
		if d == job.Media {
			continue // no shards: the Creatives section, and a caveat, say what is owed
		}
		c := m.Datasets[d]
		line := ShardLine{Dataset: d, Shards: c.Shards, Done: c.Done, Pending: c.Pending, Failed: c.Failed, Provisional: c.Provisional, Rows: c.Rows, Requests: c.Requests, MinRequests: c.MinRequests}
		st.AnyProvisional = st.AnyProvisional || c.Provisional > 0
		line.Incomplete = c.Pending > 0 || c.Failed > 0 || c.Shards == 0
		st.Shards = append(st.Shards, line)
		var parts []string
		if d == job.AdDetails {
			if st.DetailsOwed > 0 {
				parts = append(parts, fmt.Sprintf("%s ads found by ads have no detail yet (owed, or refused by the API: adharvest status tells which)", Int(st.DetailsOwed)))
			} else if c.Pending > 0 {
				parts = append(parts, "the detail fan-out has not finished")
			}
			if c.Failed > 0 {
				parts = append(parts, "the detail fan-out failed")
			}
		} else {
			if c.Pending > 0 {
				parts = append(parts, fmt.Sprintf("%d of %d shards pending", c.Pending, c.Shards))
			}
			if c.Failed > 0 {
				parts = append(parts, fmt.Sprintf("%d of %d shards failed", c.Failed, c.Shards))
			}
		}
		if c.Shards == 0 && d != job.AdDetails {
			parts = append(parts, "not started")
		}
		if len(parts) > 0 {
			st.Problems = append(st.Problems, d+": "+strings.Join(parts, ", "))
		}
	}
	if n := len(m.Runs); n > 0 {
		last := m.Runs[n-1]
		switch last.Status {
		case "complete":
		case "planned":
			st.Problems = append(st.Problems, "the last run ("+last.RunID+") only planned the harvest (it asked ad/report for counts); adharvest harvest fetches the data")
		case "running":
			st.Problems = append(st.Problems, "the last run ("+last.RunID+") is still running, or was killed before it could record how it ended")
		default:
			msg := "the last run (" + last.RunID + ") " + last.Status
			if last.Message != "" {
				msg += ": " + Truncate(last.Message, 240)
			}
			st.Problems = append(st.Problems, msg)
		}
	} else {
		st.Problems = append(st.Problems, "no harvest run is recorded")
	}
	st.Complete = m.Complete && len(st.Problems) == 0
	caveats, serious, provisional := p.caveats()
	if line := p.mediaCaveat(); line != "" {
		caveats = append(caveats, line)
	}
	st.Caveats, st.Provisional = caveats, provisional
	if to, err := time.Parse("2006-01-02", p.Scope.To); err == nil && provisional {
		// A shard is final once a run finishes it more than
		// provisionalDays after its window's last day.
		st.FinalFrom = to.AddDate(0, 0, provisionalDays+1).Format("2006-01-02")
	}
	if !st.Complete {
		st.CaveatsLead = "Of what is done:"
		st.Level, st.Headline = "bad", "Incomplete harvest"
		return nil
	}
	var req int64
	for _, r := range m.Runs {
		req += r.Requests
	}
	st.Summary = fmt.Sprintf("Every shard of every dataset the job asked for is done: %s requests over %d run(s)", Int(req), len(m.Runs))
	if last := m.Runs[len(m.Runs)-1]; !last.Ended.IsZero() {
		st.Summary += ", the last ended " + stamp(last.Ended)
	}
	st.Summary += "."
	st.CaveatsLead = "But the data is not complete yet:"
	switch {
	case serious && provisional:
		st.Level, st.Headline = "warn", "Every shard done, but not complete: short slices and provisional days"
	case serious:
		st.Level, st.Headline = "warn", "Every shard done, but not complete: some slices hold less than exists"
	case provisional:
		st.Level, st.Headline = "warn", "Every shard done, but provisional: the next run fetches the recent days again"
	case len(caveats) > 0:
		st.Level, st.Headline = "note", "Every shard done; not all of it can be verified"
		st.CaveatsLead = "What cannot be verified:"
	default:
		st.Level, st.Headline = "good", "Complete harvest"
		if cv := p.Coverage; cv.Has && cv.Reported > 0 {
			st.Summary += fmt.Sprintf(" Every one of its %s slices holds what ad/report counts: %s of %s ads × country.", Int(int64(cv.Slices)), Int(cv.Verified), Int(cv.Reported))
		}
	}
	return nil
}

func (p *Page) weekly(ctx context.Context, db *sql.DB, top int) error {
	type key struct {
		c string
		w time.Time
	}
	vals := map[key]float64{}
	totals := map[string]float64{}
	var minW, maxW time.Time
	err := run(ctx, db, "ads-per-country-week", 0, func(r record) error {
		c, n := r.str("country_code"), r.int("ads")
		w, ok := r.date("week_start")
		if !ok {
			return nil // ads without a first shown date have no week
		}
		vals[key{c, w}] = float64(n)
		totals[c] += float64(n)
		if minW.IsZero() || w.Before(minW) {
			minW = w
		}
		if w.After(maxW) {
			maxW = w
		}
		return nil
	})
	if err != nil || len(totals) == 0 {
		return err
	}
	cs := make([]string, 0, len(totals))
	for c := range totals {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool {
		if totals[cs[i]] != totals[cs[j]] {
			return totals[cs[i]] > totals[cs[j]]
		}
		return cs[i] < cs[j]
	})
	shown := cs
	if len(cs) > top {
		shown = cs[:top]
	}
	var weeks []time.Time
	for w := minW; !w.After(maxW); w = w.AddDate(0, 0, 7) {
		weeks = append(weeks, w)
	}
	series := make([]Series, len(shown))
	for i, c := range shown {
		s := Series{Name: countryLabel(c), Values: make([]float64, len(weeks))}
		for j, w := range weeks {
			s.Values[j] = vals[key{c, w}]
		}
		series[i] = s
	}
	title := "Ads per week, by country"
	if len(cs) > len(shown) {
		title = fmt.Sprintf("Ads per week, the %d countries with the most ads (of %d)", len(shown), len(cs))
	}
	desc := fmt.Sprintf("Small multiples: one line chart per country of distinct ads by week of first shown date, on shared scales, for the %d countries with the most ads: %s.", len(shown), strings.Join(shown, ", "))
	partial := p.partialWeeks(weeks)
	p.Weekly = SmallMultiples("chart-weekly", title, desc, "ads first shown", weeks, partial, series, 4)
	var notes []string
	if len(cs) > len(shown) {
		notes = append(notes, fmt.Sprintf("%d more countries are not drawn (%s); the table in the next section has all of them.", len(cs)-len(shown), strings.Join(cs[len(shown):], ", ")))
	}
	if slices.Contains(partial, true) {
		notes = append(notes, "Hollow points and dashed lines mark weeks that the harvest's dates cover only in part, so they hold fewer ads.")
	}
	if p.adsFiltered() {
		notes = append(notes, "The job searched with terms, so these are ads matching its queries, not all ads shown.")
	}
	p.WeeklyNote = strings.Join(notes, " ")
	return nil
}

// countryTotals is one country's rows of reported-vs-harvested summed.
type countryTotals struct {
	reported, harvested int64
	hasReport           bool
	unfiltered          bool
	from, to            time.Time // first and last week with a report
}

// compareTotals runs reported-vs-harvested and sums its rows per country (in
// the order the page lists them: most reported first) and per week (over the
// countries that have reports), as the analysis' header says.
func compareTotals(ctx context.Context, db *sql.DB) (map[string]*countryTotals, []string, []weekTotal, error) {
	byCountry := map[string]*countryTotals{}
	var order []string
	byWeek := map[time.Time]*weekTotal{}
	type row struct {
		code      string
		w         time.Time
		harvested int64
	}
	var all []row
	err := run(ctx, db, "reported-vs-harvested", 0, func(r record) error {
		code := r.str("country_code")
		c := byCountry[code]
		if c == nil {
			c = &countryTotals{unfiltered: r.boolean("unfiltered")}
			byCountry[code] = c
			order = append(order, code)
		}
		w, _ := r.date("week_start")
		h := r.int("harvested_ads")
		c.harvested += h
		if rep := r.num("reported_ads"); rep.Valid {
			c.reported += rep.Int64
			c.hasReport = true
			if c.from.IsZero() || w.Before(c.from) {
				c.from = w
			}
			if w.After(c.to) {
				c.to = w
			}
			x := byWeek[w]
			if x == nil {
				x = &weekTotal{week: w}
				byWeek[w] = x
			}
			x.reported += rep.Int64
		}
		all = append(all, row{code, w, h})
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	// Harvested ads of weeks without a report row still count in the weekly
	// totals of countries that have reports at all.
	for _, r := range all {
		if c := byCountry[r.code]; c.hasReport {
			x := byWeek[r.w]
			if x == nil {
				x = &weekTotal{week: r.w}
				byWeek[r.w] = x
			}
			x.harvested += r.harvested
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := byCountry[order[i]], byCountry[order[j]]
		if a.reported != b.reported {
			return a.reported > b.reported
		}
		if a.harvested != b.harvested {
			return a.harvested > b.harvested
		}
		return order[i] < order[j]
	})
	weeks := make([]weekTotal, 0, len(byWeek))
	for _, x := range byWeek {
		weeks = append(weeks, *x)
	}
	sort.Slice(weeks, func(i, j int) bool { return weeks[i].week.Before(weeks[j].week) })
	return byCountry, order, weeks, nil
}

func (p *Page) compare(ctx context.Context, db *sql.DB, share float64) error {
	p.DivergePct = fmt.Sprintf("%g%%", share*100)
	byCountry, order, weeks, err := compareTotals(ctx, db)
	if err != nil {
		return err
	}
	var cats []string
	var rep, got []float64
	var hl []bool
	filtered := 0
	for _, code := range order {
		x := byCountry[code]
		c := CountryCompare{Code: code, Name: countries.Name(code), Harvested: Int(x.harvested), Unfiltered: x.unfiltered, HasReported: x.hasReport}
		if x.hasReport {
			c.Reported = Int(x.reported)
			d := x.harvested - x.reported
			c.Diff = Int(d)
			if d > 0 {
				c.Diff = "+" + c.Diff
			}
			if x.reported > 0 {
				c.Share = fmt.Sprintf("%.0f%%", float64(x.harvested)/float64(x.reported)*100)
				c.Diverges = math.Abs(float64(d)) > share*float64(x.reported)
			} else {
				c.Diverges = x.harvested > 0
			}
			c.Dates = "weeks of " + x.from.Format("2006-01-02") + " to " + x.to.AddDate(0, 0, 6).Format("2006-01-02")
		} else {
			c.Reported = "not reported"
		}
		if !x.unfiltered && x.harvested > 0 {
			filtered++
		}
		p.Compare = append(p.Compare, c)
		if x.hasReport {
			cats = append(cats, code)
			rep = append(rep, float64(x.reported))
			got = append(got, float64(x.harvested))
			hl = append(hl, c.Diverges)
		}
	}
	p.CompareChart = GroupedBarChart("chart-compare", "Reported by ad/report against harvested in ads, per country",
		fmt.Sprintf("Grouped bar chart, one pair of bars per country: the number of ads ad/report says were published, and the distinct ads harvested with a first shown date in the same weeks. Countries where the two differ by more than %s are shaded and labelled in red.", p.DivergePct),
		"ads", cats, []Series{{Name: "reported (ad/report)", Values: rep}, {Name: "harvested (ads)", Values: got}}, hl)
	diverging := 0
	var names []string
	for _, c := range p.Compare {
		if c.Diverges {
			diverging++
			names = append(names, c.Code)
		}
	}
	switch {
	case len(cats) == 0:
	case diverging == 0:
		p.CompareSummary = fmt.Sprintf("All %d reported countries match: harvested and reported counts are within %s of each other.", len(cats), p.DivergePct)
	default:
		p.CompareSummary = fmt.Sprintf("%d of %d countries differ by more than %s: %s.", diverging, len(p.Compare), p.DivergePct, strings.Join(names, ", "))
		p.CompareOpen = true
	}
	p.compareWeekly(weeks)
	if filtered > 0 {
		p.CompareNote = fmt.Sprintf("In %d countries every ad was harvested through search terms or other filters, while ad/report counts all ads: there, harvested below reported is expected (marked \"filtered\").", filtered)
	}
	return nil
}

// weekTotal is one week's reported and harvested ads, summed over the
// countries that have reports.
type weekTotal struct {
	week                time.Time
	reported, harvested int64
}

func (p *Page) compareWeekly(totals []weekTotal) {
	if len(totals) == 0 {
		return
	}
	weeks := make([]time.Time, len(totals))
	rep, got := make([]float64, len(totals)), make([]float64, len(totals))
	for i, t := range totals {
		weeks[i], rep[i], got[i] = t.week, float64(t.reported), float64(t.harvested)
	}
	// Fill weeks without any row, so that the x axis is regular.
	var allW []time.Time
	var allR, allG []float64
	for i, w := 0, weeks[0]; !w.After(weeks[len(weeks)-1]); w = w.AddDate(0, 0, 7) {
		allW = append(allW, w)
		if i < len(weeks) && weeks[i].Equal(w) {
			allR, allG = append(allR, rep[i]), append(allG, got[i])
			i++
		} else {
			allR, allG = append(allR, 0), append(allG, 0)
		}
	}
	p.CompareWeekly = LineChart("chart-compare-weekly", "Reported and harvested per week, all reported countries together",
		"Line chart by week: ads counted by ad/report and ads harvested in ads (each ad once per country), summed over the countries that have reports.",
		"ads (ad × country)", allW, p.partialWeeks(allW), []Series{{Name: "reported (ad/report)", Values: allR, Reference: true}, {Name: "harvested (ads)", Values: allG}})
}

// adsFiltered reports whether every query of the job narrows ads down by
// terms, advertisers or reach, so that ads holds only what matched.
func (p *Page) adsFiltered() bool {
	if p.Manifest == nil || len(p.Manifest.Job.Queries) == 0 {
		return false
	}
	for _, q := range p.Manifest.Job.Queries {
		if len(q.Terms) == 0 && len(q.AdvertiserIDs) == 0 && q.ReachMin == "" && q.ReachMax == "" {
			return false
		}
	}
	return true
}

// partialWeeks marks the weeks that the job's dates cover only in part.
func (p *Page) partialWeeks(weeks []time.Time) []bool {
	if p.Manifest == nil {
		return nil
	}
	from, err1 := time.Parse("2006-01-02", p.Scope.From)
	to, err2 := time.Parse("2006-01-02", p.Scope.To)
	if err1 != nil || err2 != nil {
		return nil
	}
	out := make([]bool, len(weeks))
	for i, w := range weeks {
		out[i] = w.Before(from) || w.AddDate(0, 0, 6).After(to)
	}
	return out
}

func (p *Page) advertisers(ctx context.Context, db *sql.DB, top int) error {
	var bars []Bar
	err := run(ctx, db, "top-advertisers", 0, func(r record) error {
		id := r.num("business_id")
		if !id.Valid || len(p.Advertisers) >= top {
			return nil // ads without an advertiser id are not an advertiser
		}
		a := Advertiser{Rank: len(p.Advertisers) + 1, ID: id.Int64, Ads: r.int("ads")}
		if cs := r.str("countries"); cs != "" {
			a.Countries = int64(len(strings.Split(cs, ",")))
		}
		a.Name = strings.Join(strings.Fields(r.str("business_name")), " ")
		if a.Name == "" {
			a.Name = "(no name)"
		}
		a.Reach = reachRange(r.num("reach_lower_sum"), r.num("reach_upper_sum"), r.int("open_ended_ads") > 0)
		a.ReachTypical = orDash(r.str("reach_typical"))
		if first, ok := r.date("first_shown"); ok {
			a.FirstShown = first.Format("2006-01-02")
		}
		if last, ok := r.date("last_shown"); ok {
			a.LastShown = last.Format("2006-01-02")
		}
		p.Advertisers = append(p.Advertisers, a)
		bars = append(bars, Bar{Label: a.Name, Value: float64(a.Ads), Tip: fmt.Sprintf("%s (business id %d)", a.Name, a.ID)})
		return nil
	})
	if err != nil {
		return err
	}
	p.AdvertiserChart = BarChart("chart-advertisers", fmt.Sprintf("Top %d advertisers by distinct ads", len(bars)),
		"Horizontal bar chart of the advertisers with the most distinct ads in the ads table, most first.", "distinct ads", bars, false)
	return nil
}

func (p *Page) rejections(ctx context.Context, db *sql.DB, top int) error {
	s := &p.Rejections
	err := run(ctx, db, "rejection-summary", 0, func(r record) error {
		s.Detailed, s.Rejected, s.WithReasons, s.TakenDown = r.int("detailed"), r.int("rejected"), r.int("with_reasons"), r.int("taken_down")
		return nil
	})
	if err != nil {
		return err
	}
	if s.Detailed > 0 {
		s.Share = fmt.Sprintf("%.1f%%", float64(s.Rejected)/float64(s.Detailed)*100)
	}
	// rejection-reasons has a row per reason and country: gather each
	// reason's countries, and take its ads from reason_ads.
	byReason := map[string]*Reason{}
	var order []string
	err = run(ctx, db, "rejection-reasons", 0, func(r record) error {
		text := strings.Join(strings.Fields(r.str("reason")), " ")
		if text == "" {
			return nil
		}
		x := byReason[text]
		if x == nil {
			x = &Reason{Text: text}
			byReason[text] = x
			order = append(order, text)
		}
		x.Ads = max(x.Ads, r.int("reason_ads"))
		if c := r.str("country_code"); c != "" && !strings.Contains(", "+x.Countries+", ", ", "+c+", ") {
			if x.Countries != "" {
				x.Countries += ", "
			}
			x.Countries += c
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.SliceStable(order, func(i, j int) bool {
		if byReason[order[i]].Ads != byReason[order[j]].Ads {
			return byReason[order[i]].Ads > byReason[order[j]].Ads
		}
		return order[i] < order[j]
	})
	var bars []Bar
	for _, text := range order {
		if len(p.Reasons) >= top {
			break
		}
		x := *byReason[text]
		cs := strings.Split(x.Countries, ", ")
		sort.Strings(cs)
		x.Countries = strings.Join(cs, ", ")
		p.Reasons = append(p.Reasons, x)
		bars = append(bars, Bar{Label: x.Text, Value: float64(x.Ads)})
	}
	p.ReasonChart = BarChart("chart-reasons", "Rejection reasons by number of ads",
		"Horizontal bar chart of the reasons given in ad details' rejection information, by the number of distinct ads each was given for.", "ads rejected with this reason", bars, true)
	return nil
}

// cardUnits are the dataset cards' labels: each card holds one unit, named.
var cardUnits = map[string]struct{ label, note string }{
	job.Ads:               {"distinct ads", "ads: each ad once"},
	job.AdDetails:         {"ads detailed", "ad-details: each ad once"},
	job.AdReports:         {"ads × country reported", "ad-reports: daily counts summed"},
	job.CommercialContent: {"distinct posts", "commercial-content"},
	job.Advertisers:       {"advertisers", "advertisers: by search term"},
}

func (p *Page) glance() {
	st := p.Status
	card := Card{Label: "status"}
	switch st.Level {
	case "good":
		card.Value, card.Note = "Complete", "every shard done, every slice verified"
	case "note":
		card.Value, card.Note = "Done", fmt.Sprintf("every shard done; %d caveat(s), see above", len(st.Caveats))
	case "warn":
		card.Value, card.Alert = "Not complete", true
		card.Note = fmt.Sprintf("every shard done; %d caveat(s), see above", len(st.Caveats))
	default:
		card.Value, card.Alert = st.Headline, true
		if p.Manifest != nil {
			card.Value = "Incomplete"
		}
		card.Note = fmt.Sprintf("%d problem(s), see above", len(st.Problems))
	}
	p.Glance = append(p.Glance, card)
	if p.Manifest != nil {
		p.Glance = append(p.Glance, Card{Label: "dates", Value: p.Scope.From + " – " + p.Scope.To, Note: p.Scope.Windows, Wide: true})
		p.Glance = append(p.Glance, Card{Label: "countries", Value: fmt.Sprint(len(p.Manifest.Job.Countries())), Note: Truncate(p.Scope.Countries, 40)})
	}
	if cv := p.Coverage; cv.Has {
		c := Card{Label: "verified coverage", Value: "none", Note: "no slice has an exact ad/report count"}
		if cv.Reported > 0 {
			c.Value = cv.Share
			c.Note = fmt.Sprintf("%s of %s ads × country reported, in checked slices", Int(cv.Verified), Int(cv.Reported))
			c.Alert = cv.Verified < cv.Reported
		}
		p.Glance = append(p.Glance, c)
	}
	for _, d := range p.Datasets {
		if !d.InJob && d.Items == 0 {
			continue
		}
		u := cardUnits[d.Dataset]
		if d.Dataset == job.AdReports && p.HasAds {
			// The same unit as ad/report's counts, beside them.
			if n := p.tableRows("ads"); n > 0 {
				p.Glance = append(p.Glance, Card{Label: "ads × country harvested", Value: Int(n), Note: "ads: each ad once per country"})
			}
		}
		c := Card{Label: u.label, Value: Int(d.Items), Note: u.note}
		if d.Items == 0 {
			c.Value, c.Alert = "no data", true
		}
		p.Glance = append(p.Glance, c)
	}
	if c, ok := p.mediaCard(); ok {
		p.Glance = append(p.Glance, c)
	}
	if p.UnreadableItems > 0 {
		p.Glance = append(p.Glance, Card{Label: "items unreadable", Value: Int(p.UnreadableItems), Note: "sent by the API, kept in rejects", Alert: true})
	}
}

// tableRows is a view's row count from table-counts.
func (p *Page) tableRows(name string) int64 {
	for _, t := range p.Tables {
		if t.Table == name {
			return t.Rows
		}
	}
	return 0
}

// Render writes the page as HTML.
func (p *Page) Render(w io.Writer) error {
	t, err := template.New("report").Funcs(template.FuncMap{
		"f":       func(v float64) string { return fmt.Sprintf("%.1f", v) },
		"int":     Int,
		"n":       func(i int) string { return Int(int64(i)) },
		"add":     func(a, b int) int { return a + b },
		"inc":     func(i int) int { return i + 1 },
		"join":    strings.Join,
		"rotate":  func(t Text) string { return fmt.Sprintf("rotate(%.0f %.1f %.1f)", t.Rotate, t.X, t.Y) },
		"country": countryLabel,
	}).Parse(pageTemplate)
	if err != nil {
		return err
	}
	return t.Execute(w, p)
}

// countryLabel is "FR France", or the code alone when the name is unknown.
func countryLabel(code string) string {
	if n := countries.Name(code); n != "" {
		return code + " " + n
	}
	return code
}

// describeCountries names well-known sets instead of listing 30 codes.
func describeCountries(cs []string) string {
	s := slices.Clone(cs)
	slices.Sort(s)
	s = slices.Compact(s)
	switch {
	case slices.Equal(s, countries.All):
		return "EEA and GB (31)"
	case slices.Equal(s, countries.EEA):
		return "EEA (30)"
	case slices.Equal(s, countries.EU27):
		return "EU (27)"
	}
	return strings.Join(s, ", ")
}

func reachRange(lo, hi sql.NullInt64, open bool) string {
	switch {
	case !lo.Valid && !hi.Valid:
		return "unknown"
	case open:
		return Num(float64(lo.Int64), true) + " – " + Num(float64(max(lo.Int64, hi.Int64)), true) + "+"
	case !hi.Valid:
		return "at least " + Num(float64(lo.Int64), true)
	}
	return Num(float64(lo.Int64), true) + " – " + Num(float64(hi.Int64), true)
}

func nullInt(n sql.NullInt64) string {
	if !n.Valid {
		return ""
	}
	return Int(n.Int64)
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = "“" + x + "”"
	}
	return strings.Join(q, ", ")
}
