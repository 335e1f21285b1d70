package commands

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"adharvest/checkpoint"
	"adharvest/crawl"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/tiktok"

	"golang.org/x/term"
)

// Console is standard error as the commands, their live progress display
// and main's signal handler share it. Whatever is written to it is written
// above the display: the display is cleared first and drawn again under the
// text, so that a warning, a retry notice or main's Ctrl-C notice always
// stands on a line of its own.
type Console struct {
	mu sync.Mutex
	w  io.Writer
	fd int // -1 when w is not a file
	// tty is set when w is a terminal; ansi when it takes cursor movement,
	// so that the display may span several lines (else it is one line,
	// redrawn with a carriage return).
	tty, ansi bool
	cols      int      // the width to draw in, when not the terminal's (tests)
	lines     []string // the display, drawn again after other output
	shown     int      // lines of the display on screen
	shownLen  int      // width of the one-line display on screen
	stopped   bool
}

// NewConsole wraps w, standard error. main makes one and writes its notices
// through it; App wraps any other writer itself.
func NewConsole(w io.Writer) *Console {
	c := &Console{w: w, fd: -1}
	if f, ok := w.(*os.File); ok {
		c.fd = int(f.Fd())
		c.tty = term.IsTerminal(c.fd)
		c.ansi = c.tty && os.Getenv("TERM") != "dumb" && enableANSI(f)
	}
	return c
}

// consoleOf is w as a Console.
func consoleOf(w io.Writer) *Console {
	if c, ok := w.(*Console); ok {
		return c
	}
	if w == nil {
		w = io.Discard
	}
	return NewConsole(w)
}

// Write writes p above the live display.
func (c *Console) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
	n, err := c.w.Write(p)
	if len(p) == 0 || p[len(p)-1] == '\n' {
		c.drawLocked()
	}
	return n, err
}

// Stop clears the display for good: main calls it before it exits at once,
// so that the shell's prompt does not land on the display's line.
func (c *Console) Stop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.clearLocked()
	c.lines, c.stopped = nil, true
}

// show replaces the display by lines (nil removes it).
func (c *Console) show(lines []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	c.clearLocked()
	c.lines = lines
	c.drawLocked()
}

// width is the terminal's width, or 120 when it has none.
func (c *Console) width() int {
	if c.cols > 0 {
		return c.cols
	}
	if c.fd >= 0 {
		if w, _, err := term.GetSize(c.fd); err == nil && w > 20 {
			return w
		}
	}
	return 120
}

func (c *Console) clearLocked() {
	switch {
	case c.shown > 0 && c.ansi:
		var b strings.Builder
		b.WriteString("\r\x1b[K")
		for i := 1; i < c.shown; i++ {
			b.WriteString("\x1b[1A\x1b[K")
		}
		io.WriteString(c.w, b.String())
	case c.shown > 0:
		io.WriteString(c.w, "\r"+strings.Repeat(" ", c.shownLen)+"\r")
	}
	c.shown, c.shownLen = 0, 0
}

// drawLocked draws the display, each line cut to the terminal's width so
// that none wraps, and leaves the cursor at the end of its last line.
func (c *Console) drawLocked() {
	if len(c.lines) == 0 {
		return
	}
	width := c.width() - 1
	lines := c.lines
	if !c.ansi {
		lines = lines[len(lines)-1:] // the whole job's line
	}
	cut := make([]string, len(lines))
	for i, l := range lines {
		cut[i] = truncate(l, width)
	}
	io.WriteString(c.w, strings.Join(cut, "\n"))
	c.shown, c.shownLen = len(cut), utf8.RuneCountInString(cut[len(cut)-1])
}

func truncate(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:max(0, width-1)]) + "…"
}

// progress shows a harvest's advance on stderr: the whole job, one line per
// dataset and one for the job, redrawn in place on a terminal (bar), or
// one line every logEvery otherwise (log), so that nohup logs and CI stay
// readable.
//
// Its figures come from the crawl's events and, per dataset, from the
// manifest.json that the crawl writes just before Start and refreshes every
// ten seconds: the events do not say which dataset a shard count belongs to.
// Slices are planned as report answers come in (and a blind track's next
// window when the one before is done), so the totals of ads and
// commercial-content grow during a run and are shown as "≥".
type progress struct {
	mu        sync.Mutex
	con       *Console
	mode      string
	now       func() time.Time
	started   time.Time
	dir       string // the harvest folder, whose manifest gives totals per dataset
	readAt    time.Time
	perDS     bool // the manifest gave totals per dataset
	job       job.Job
	rows      []*dsRow
	byName    map[string]*dsRow
	total     int // shards known at Start, for a display without perDS
	startDone int
	pages     int64 // this run
	items     int64 // this run
	begun     bool
	ended     bool
	lastDraw  time.Time
	lastLog   time.Time
	logged    string
	logEvery  time.Duration
	drawEvery time.Duration
	stop      chan struct{}
	wg        sync.WaitGroup
}

// dsRow is one dataset's line.
type dsRow struct {
	name, unit string
	known      int  // shards known so far
	open       bool // more may be planned while the crawl runs
	// phase marks a fan-out (ad-details): it counts items, not shards, and
	// its total is exact from the moment it begins.
	phase, phaseBegun bool
	done, doneRun     int // done: across runs; doneRun: in this run
	failedRun         int
	running           map[string]bool
	rows, rowsRun     int64
	first             time.Time // this run's first progress on the dataset
}

func newProgress(w io.Writer, mode string) *progress {
	p := &progress{con: consoleOf(w), mode: mode, now: time.Now, logEvery: 10 * time.Second, drawEvery: 200 * time.Millisecond, byName: map[string]*dsRow{}}
	p.started = p.now()
	if p.mode == "auto" || p.mode == "" {
		p.mode = "log"
		if p.con.tty {
			p.mode = "bar"
		}
	}
	return p
}

// newProgress is the display of this harvest, which reads the totals per
// dataset from the folder's manifest.
func (o *HarvestCommand) newProgress() *progress {
	p := newProgress(o.Stderr, o.Progress)
	p.dir = o.Out
	return p
}

// units names what a dataset's shards are.
var units = map[string]string{
	job.Ads: "slices", job.CommercialContent: "slices", job.AdReports: "reports",
	job.Advertisers: "searches", job.AdDetails: "ads", "plan": "reports",
}

// unitOf is r's unit for n of them: "1 search", "2 searches".
func unitOf(r *dsRow, n int) string {
	if n != 1 {
		return r.unit
	}
	if strings.HasSuffix(r.unit, "ches") {
		return strings.TrimSuffix(r.unit, "es")
	}
	return strings.TrimSuffix(r.unit, "s")
}

// labels are the names shown for datasets that are not the job's own.
var labels = map[string]string{"plan": "planning"}

func (p *progress) row(name string) *dsRow {
	if r := p.byName[name]; r != nil {
		return r
	}
	unit := units[name]
	if unit == "" {
		unit = "shards"
	}
	r := &dsRow{name: name, unit: unit, running: map[string]bool{}, phase: name == job.AdDetails}
	r.open = (name == job.Ads || name == job.CommercialContent) && p.job.WindowDays == 0
	p.byName[name] = r
	if name == "plan" {
		p.rows = append([]*dsRow{r}, p.rows...) // planning comes first
	} else {
		p.rows = append(p.rows, r)
	}
	return r
}

// start shows the job and how much of it is done, before the first request.
func (p *progress) start(j job.Job, shards, done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.job, p.total, p.startDone, p.begun = j, shards, done, true
	p.started = p.now()
	p.lastLog = p.started // the first log line comes after logEvery: this one says it all
	for _, d := range j.Datasets {
		if d == job.Media {
			continue // no shards: the creatives are counted by the media line at the end
		}
		p.row(d)
	}
	if m, ok := p.readManifest(); ok {
		p.perDS = true
		for name, c := range m.Datasets {
			if (name != "plan" && !j.Has(name)) || name == job.Media {
				continue
			}
			r := p.row(name)
			r.rows = c.Rows
			if r.phase {
				continue // its total comes with its phase, after the shards
			}
			// Provisional shards are harvested again in this run.
			r.known, r.done = c.Shards, max(0, c.Done-c.Provisional)
			if c.Pending == 0 && c.Failed == 0 && c.Provisional == 0 && c.Shards > 0 {
				r.open = false // every slice is known and done: nothing more to plan
			}
		}
	}
	fmt.Fprintf(p.con, "adharvest: %s: %s\n", j.Describe(), p.planLine())
	if p.mode == "bar" || p.mode == "log" {
		p.stop = make(chan struct{})
		p.wg.Add(1)
		go p.tick()
	}
	p.updateLocked(true)
}

// readManifest reads the folder's manifest (what the crawl just wrote).
func (p *progress) readManifest() (manifest.Manifest, bool) {
	if p.dir == "" {
		return manifest.Manifest{}, false
	}
	p.readAt = p.now()
	m, err := manifest.Read(folder.New(p.dir).Manifest())
	if err != nil || len(m.Datasets) == 0 || m.JobHash != p.job.Hash() {
		return m, false
	}
	return m, true
}

// refreshLocked takes the totals the crawl has planned since, from the
// manifest it refreshes every ten seconds.
func (p *progress) refreshLocked() {
	if !p.perDS || p.now().Sub(p.readAt) < 5*time.Second {
		return
	}
	m, ok := p.readManifest()
	if !ok {
		return
	}
	for name, c := range m.Datasets {
		if r := p.byName[name]; r != nil && r.open && !r.phase {
			r.known = max(r.known, c.Shards)
		}
	}
}

// planLine says what the job holds: "ads ≥40 slices (12 done), ad-reports
// 30 reports; ad-details after ads".
func (p *progress) planLine() string {
	if !p.perDS {
		s := fmt.Sprintf("%d shards known so far, %d already done", p.total, p.startDone)
		if p.anyOpen() {
			s += " (more are planned as ad/report answers come in)"
		}
		return s
	}
	var parts []string
	for _, r := range p.rows {
		if r.phase {
			parts = append(parts, r.name+" after ads (one request per ad found)")
			continue
		}
		if r.known == 0 && r.name == "plan" {
			continue
		}
		s := fmt.Sprintf("%s %s%d %s", p.label(r), ge(r.open), r.known, unitOf(r, r.known))
		if r.done > 0 {
			s += fmt.Sprintf(" (%d done)", r.done)
		}
		parts = append(parts, s)
	}
	s := strings.Join(parts, ", ")
	if p.anyOpen() {
		s += "; ≥: slices are planned as ad/report answers come in"
	}
	return s
}

func (p *progress) label(r *dsRow) string {
	if l := labels[r.name]; l != "" {
		return l
	}
	return r.name
}

func ge(open bool) string {
	if open {
		return "≥"
	}
	return ""
}

func (p *progress) anyOpen() bool {
	for _, r := range p.rows {
		if r.open && !p.ended {
			return true
		}
	}
	return false
}

func (p *progress) events() crawl.Events {
	return crawl.Events{
		Start: p.start,
		Page: func(sh *crawl.Shard, items int) {
			p.mu.Lock()
			defer p.mu.Unlock()
			now := p.now()
			r := p.row(sh.Dataset)
			if r.first.IsZero() {
				r.first = now
			}
			p.pages++
			p.items += int64(items)
			r.rows += int64(items)
			r.rowsRun += int64(items)
			if r.phase {
				r.done++ // in a fan-out every page is one item
				r.doneRun++
			} else {
				r.running[sh.ID] = true
				r.known = max(r.known, r.done+len(r.running))
			}
			p.updateLocked(false)
		},
		Phase: func(name string, total int) {
			p.mu.Lock()
			defer p.mu.Unlock()
			// The fan-out begins alongside the shards (it streams the ads
			// of each committed part, More) or after them: either way the
			// shards' rows stay as they are.
			r := p.row(name)
			r.phase, r.phaseBegun = true, true
			r.known, r.done, r.doneRun, r.failedRun = total, 0, 0, 0
			r.first = p.now()
			if p.mode != "none" && total > 0 {
				fmt.Fprintf(p.con, "adharvest: %s: %s %s to fetch\n", name, thousands(int64(total)), unitOf(r, total))
			}
			p.updateLocked(true)
		},
		More: func(name string, n int) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.row(name).known += n
			p.updateLocked(false)
		},
		ShardDone: func(sh *crawl.Shard, st checkpoint.Shard, err error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			r := p.row(sh.Dataset)
			if r.phase {
				return // a fan-out counts its items, not its one shard
			}
			if r.first.IsZero() {
				r.first = p.now()
			}
			delete(r.running, sh.ID)
			switch {
			case err == nil:
				r.done++
				r.doneRun++
				r.known = max(r.known, r.done+len(r.running))
			case st.Status == checkpoint.StatusFailed:
				r.failedRun++
				p.printLocked("shard %s failed: %v", sh.ID, err)
			}
			p.updateLocked(false)
		},
	}
}

// tick redraws the display every second, so that the elapsed time and the
// ETA move while requests wait, and writes the log line when it is due.
func (p *progress) tick() {
	defer p.wg.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.updateLocked(true)
			p.mu.Unlock()
		}
	}
}

func (p *progress) updateLocked(force bool) {
	if p.ended || !p.begun {
		return
	}
	now := p.now()
	switch p.mode {
	case "bar":
		if !force && now.Sub(p.lastDraw) < p.drawEvery {
			return
		}
		p.lastDraw = now
		p.refreshLocked()
		p.con.show(p.lines(true))
	case "log":
		if now.Sub(p.lastLog) < p.logEvery {
			return
		}
		p.refreshLocked()
		line := p.logLine()
		if line == p.logged {
			return // nothing moved: no line
		}
		p.lastLog, p.logged = now, line
		fmt.Fprintf(p.con, "adharvest: %s, %s elapsed\n", line, fmtDuration(now.Sub(p.started)))
	}
}

// lines is the display: one line per dataset, then the job's.
func (p *progress) lines(bars bool) []string {
	var out []string
	width := 0
	for _, r := range p.rows {
		width = max(width, utf8.RuneCountInString(p.label(r)))
	}
	for _, r := range p.rows {
		if r.name == "plan" && r.known == 0 && r.done == 0 {
			continue
		}
		bar := ""
		if bars {
			bar = meter(r.done, r.known, 12) + " "
		}
		out = append(out, fmt.Sprintf("  %-*s %s%s", width, p.label(r), bar, p.rowText(r)))
	}
	return append(out, p.jobLine(bars))
}

// rowText is a dataset's figures: "12 of ≥40 slices, 3,450 rows, ETA ≥ 4m".
func (p *progress) rowText(r *dsRow) string {
	if r.phase && !r.phaseBegun {
		if p.job.Has(job.Ads) {
			return "after ads: one request per ad found"
		}
		return "waiting"
	}
	var s string
	if p.perDS || r.phase {
		s = fmt.Sprintf("%s of %s%s %s", thousands(int64(r.done)), ge(r.open && !p.ended), thousands(int64(r.known)), unitOf(r, r.known))
	} else {
		s = fmt.Sprintf("%s %s done", thousands(int64(r.done)), unitOf(r, r.done))
	}
	if r.name != job.AdDetails && r.name != "plan" { // details are its items; planning writes no rows
		s += ", " + thousands(r.rows) + " rows"
	}
	if r.failedRun > 0 {
		s += fmt.Sprintf(", %d failed", r.failedRun)
	}
	if p.perDS || r.phase {
		s += ", " + p.eta(r)
	}
	return s
}

// eta is a dataset's time left at its rate in this run: "ETA 4m10s", "ETA
// ≥ 4m10s" while more may be planned, "done", or "no ETA yet" before its
// first shard is done.
func (p *progress) eta(r *dsRow) string {
	left := r.known - r.done
	switch {
	case left <= 0 && r.open && !p.ended:
		return "all planned so far done"
	case left <= 0:
		return "done"
	}
	if r.doneRun == 0 || r.first.IsZero() {
		return "no ETA yet"
	}
	took := p.now().Sub(r.first)
	d := time.Duration(float64(took) / float64(r.doneRun) * float64(max(left, 0)))
	return "ETA " + ge(r.open && !p.ended) + fmtDuration(d)
}

// jobLine is the whole job: "job [████░░░░] 42 of ≥103 shards done, ETA
// ≥6m at the current rate, then ad-details; this run: 12 shards, 150
// pages in 1m20s". Rows are the datasets' own: they are not summed.
func (p *progress) jobLine(bar bool) string {
	known, done, doneRun := 0, 0, 0
	open, detailsLeft := p.anyOpen(), false
	for _, r := range p.rows {
		if r.phase {
			if !r.phaseBegun {
				detailsLeft = true
			}
			continue
		}
		known += r.known
		done += r.done
		doneRun += r.doneRun
	}
	if !p.perDS {
		known = max(p.total, p.startDone+doneRun)
		done = p.startDone + doneRun
	}
	elapsed := p.now().Sub(p.started)
	s := "job "
	if bar {
		s += meter(done, known, 12) + " "
	}
	s += fmt.Sprintf("%s of %s%s shards done", thousands(int64(done)), ge(open), thousands(int64(known)))
	// The job's ETA: the shards left at this run's rate, then the fan-out.
	var eta time.Duration
	etaKnown := true
	if left := known - done; left > 0 {
		if doneRun == 0 {
			etaKnown = false
		} else {
			eta = time.Duration(float64(elapsed) / float64(doneRun) * float64(left))
		}
	}
	if r := p.byName[job.AdDetails]; r != nil && r.phaseBegun {
		if left := r.known - r.done; left > 0 {
			if r.doneRun == 0 {
				etaKnown = false
			} else {
				eta += time.Duration(float64(p.now().Sub(r.first)) / float64(r.doneRun) * float64(left))
			}
		}
	}
	switch {
	case !etaKnown:
		s += ", no ETA yet"
	case eta > 0 || open:
		s += ", ETA " + ge(open) + fmtDuration(eta) + " at the current rate"
	}
	if detailsLeft && p.job.Has(job.AdDetails) {
		s += ", then ad-details"
	}
	return s + fmt.Sprintf("; this run: %s shards, %s pages in %s", thousands(int64(doneRun)), thousands(p.pages), fmtDuration(elapsed))
}

// logLine is the display as one line, for a log.
func (p *progress) logLine() string {
	var parts []string
	for _, r := range p.rows {
		if r.name == "plan" && r.known == 0 && r.done == 0 {
			continue
		}
		parts = append(parts, p.label(r)+" "+p.rowText(r))
	}
	return strings.Join(append(parts, p.jobLine(false)), "; ")
}

// meter is a bar of width cells, filled done/total.
func meter(done, total, width int) string {
	fill := 0
	if total > 0 {
		fill = min(width, done*width/total)
	}
	return "[" + strings.Repeat("█", fill) + strings.Repeat("░", width-fill) + "]"
}

// fmtDuration is d for a person: 45s, 4m10s, 3h05m, 2d04h.
func fmtDuration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// logf prints a notice (retries, restarts) above the display.
func (p *progress) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printLocked(format, args...)
}

func (p *progress) printLocked(format string, args ...any) {
	if p.mode == "none" {
		return
	}
	fmt.Fprintf(p.con, "adharvest: "+format+"\n", args...)
}

// finish removes the display; the summary follows.
func (p *progress) finish() {
	p.mu.Lock()
	if p.stop != nil {
		close(p.stop)
		p.stop = nil
	}
	p.mu.Unlock()
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ended = true
	if p.mode == "bar" {
		p.con.show(nil)
	}
}

// printSummary states what the run did, per dataset, with the request bill
// against the minimum any client would need. prog is how the user runs
// adharvest (see Env.Program), for the hint.
func printSummary(w io.Writer, prog, out string, res crawl.Result) {
	m, run := res.Manifest, res.Run
	fmt.Fprintf(w, "adharvest: run %s %s after %s; %d requests this run%s\n", run.RunID, run.Status, run.Ended.Sub(run.Started).Round(time.Second), run.Requests, byEndpoint(res.Sent, res.Throttled))
	for _, d := range m.Job.Datasets {
		if d == job.Media {
			continue // no shards and no API requests: the media line says what was archived
		}
		c := m.Datasets[d]
		fmt.Fprintf(w, "  %-19s %d/%d shards done, %d failed, %d rows, %d requests (minimum %d)\n", d, c.Done, c.Shards, c.Failed, c.Rows, c.Requests, c.MinRequests)
	}
	fmt.Fprintf(w, "  output: %s (query it: %s sql --out %s \"SELECT count(*) FROM ads\")\n", out, prog, shellQuote(out))
}

// byEndpoint is " (ad/query 40, ad/report 3 of which 1 throttled)", or ""
// for no request.
func byEndpoint(sent, throttled map[string]int64) string {
	eps := make([]string, 0, len(sent))
	for ep := range sent {
		if ep != tiktok.EndpointToken && sent[ep] > 0 {
			eps = append(eps, ep)
		}
	}
	if len(eps) == 0 {
		return ""
	}
	sort.Strings(eps)
	parts := make([]string, len(eps))
	for i, ep := range eps {
		parts[i] = fmt.Sprintf("%s %d", ep, sent[ep])
		if n := throttled[ep]; n > 0 {
			parts[i] += fmt.Sprintf(" of which %d throttled", n)
		}
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
