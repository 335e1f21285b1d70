package commands

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/crawl"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/manifest"
)

// screen is a minimal terminal: it plays what the console writes (text,
// \r, \n, ESC[K and ESC[nA) into lines, as a reader would see them.
type screen struct {
	lines    []string
	row, col int
}

var csi = regexp.MustCompile(`^\x1b\[(\d*)([A-Za-z])`)

func (s *screen) Write(p []byte) (int, error) {
	if s.lines == nil {
		s.lines = []string{""}
	}
	in := string(p)
	for len(in) > 0 {
		if m := csi.FindStringSubmatch(in); m != nil {
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "K":
				s.lines[s.row] = string([]rune(s.lines[s.row])[:min(s.col, len([]rune(s.lines[s.row])))])
			case "A":
				s.row = max(0, s.row-max(n, 1))
			}
			in = in[len(m[0]):]
			continue
		}
		r := []rune(in)[0]
		in = in[len(string(r)):]
		switch r {
		case '\r':
			s.col = 0
		case '\n':
			s.row, s.col = s.row+1, 0
			if s.row == len(s.lines) {
				s.lines = append(s.lines, "")
			}
		default:
			line := []rune(s.lines[s.row])
			for len(line) < s.col {
				line = append(line, ' ')
			}
			if s.col < len(line) {
				line[s.col] = r
			} else {
				line = append(line, r)
			}
			s.lines[s.row], s.col = string(line), s.col+1
		}
	}
	return len(p), nil
}

func (s *screen) String() string { return strings.Join(s.lines, "\n") }

// line is the screen's line that holds all of parts, or "".
func (s *screen) line(parts ...string) string {
	for _, l := range s.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return l
		}
	}
	return ""
}

// testJob is a job of ads, ad-details and ad-reports whose folder's manifest
// says what the crawl planned at Start: 4 ads shards known (slices are
// planned as reports come in), 2 reports of which 1 is done.
func testProgress(t *testing.T, mode string) (*progress, *screen, *time.Time, job.Job) {
	t.Helper()
	j := job.Job{Datasets: []string{job.Ads, job.AdDetails, job.AdReports}, MaxCount: 50,
		Queries: []job.Query{{Countries: []string{"FR", "DE"}, From: "2024-01-01", To: "2024-01-31"}}}
	dir := t.TempDir()
	m := manifest.Manifest{Tool: "adharvest", Job: j, JobHash: j.Hash(), Datasets: map[string]manifest.DatasetCounts{
		job.Ads:       {Shards: 4, Pending: 4},
		job.AdDetails: {Shards: 1, Pending: 1},
		job.AdReports: {Shards: 2, Done: 1, Pending: 1, Rows: 30},
	}}
	if err := manifest.Write(folder.New(dir).Manifest(), m); err != nil {
		t.Fatal(err)
	}
	scr := &screen{}
	clock := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	p := newProgress(&Console{w: scr, fd: -1, tty: true, ansi: true, cols: 200}, mode)
	p.now = func() time.Time { return clock }
	p.dir = dir
	return p, scr, &clock, j
}

func shard(ds, id string) *crawl.Shard { return &crawl.Shard{ID: ds + "/" + id, Dataset: ds} }

var done = checkpoint.Shard{Status: checkpoint.StatusDone}

// TestProgressShowsTheWholeJob: one line per dataset with its own rows, its
// shards done out of those known ("≥" while more may be planned) and an
// ETA at its rate; a line for the whole job; and a notice written while the
// display is up stands on a line of its own.
func TestProgressShowsTheWholeJob(t *testing.T) {
	p, scr, clock, j := testProgress(t, "bar")
	ev := p.events()
	ev.Start(j, 6, 1)
	if !strings.Contains(scr.lines[0], "ads ≥4 slices") || !strings.Contains(scr.lines[0], "ad-reports 2 reports (1 done)") {
		t.Fatalf("start line %q does not lay out the job per dataset", scr.lines[0])
	}
	ev.Page(shard(job.Ads, "FR"), 50)
	*clock = clock.Add(10 * time.Second)
	ev.ShardDone(shard(job.Ads, "FR"), done, nil)
	ev.Page(shard(job.AdReports, "DE"), 31)
	ev.ShardDone(shard(job.AdReports, "DE"), done, nil)
	p.mu.Lock()
	p.updateLocked(true)
	p.mu.Unlock()

	for _, want := range [][]string{
		{"ads", "1 of ≥4 slices", "50 rows", "ETA ≥30s"},
		{"ad-reports", "2 of 2 reports", "61 rows", "done"},
		{"ad-details", "after ads"},
		{"job [", "3 of ≥6 shards done", "ETA ≥15s at the current rate", "then ad-details", "this run: 2 shards, 2 pages in 10s"},
	} {
		if scr.line(want...) == "" {
			t.Errorf("no line shows %q:\n%s", want, scr)
		}
	}

	// A narrow terminal: no display line wraps (the redraw counts lines).
	p.con.cols = 60
	p.mu.Lock()
	p.updateLocked(true)
	p.mu.Unlock()
	for _, l := range scr.lines[1:] {
		if n := len([]rune(l)); n >= 60 {
			t.Errorf("a %d-character line on a 60-column terminal: %q", n, l)
		}
	}
	p.con.cols = 200
	p.mu.Lock()
	p.updateLocked(true)
	p.mu.Unlock()

	// main's Ctrl-C notice, through the console, while the display is up.
	const notice = "adharvest: stopping at a safe point; press Ctrl-C again to quit at once"
	fmt.Fprintln(p.con, notice)
	if scr.line(notice) != notice {
		t.Errorf("the notice shares its line: %q\n%s", scr.line(notice), scr)
	}
	if n := strings.Count(scr.String(), "job ["); n != 1 {
		t.Errorf("the display is on the screen %d times after the notice, want once under it:\n%s", n, scr)
	}
	if i, k := strings.Index(scr.String(), notice), strings.Index(scr.String(), "job ["); i < 0 || k < i {
		t.Errorf("the display is not drawn again under the notice:\n%s", scr)
	}

	// The fan-out: its total is exact, and the shards are over.
	ev.Phase(job.AdDetails, 100)
	for range 10 {
		*clock = clock.Add(time.Second)
		ev.Page(&crawl.Shard{ID: crawl.DetailsShardID, Dataset: job.AdDetails}, 1)
	}
	p.mu.Lock()
	p.updateLocked(true)
	p.mu.Unlock()
	if scr.line("ad-details", "10 of 100 ads", "ETA 1m30s") == "" {
		t.Errorf("the fan-out is not shown with its ETA:\n%s", scr)
	}
	// The fan-out streams: it begins while the slices still page, so the
	// ads row stays open, and each committed ads part adds its ads.
	if l := scr.line("  ads"); !strings.Contains(l, "≥") {
		t.Errorf("ads is shown closed while its slices still page: %q", l)
	}
	ev.More(job.AdDetails, 20)
	p.mu.Lock()
	p.updateLocked(true)
	p.mu.Unlock()
	if scr.line("ad-details", "10 of 120 ads") == "" {
		t.Errorf("the ads a committed part adds are not counted:\n%s", scr)
	}

	p.finish()
	if strings.Contains(scr.String(), "job [") {
		t.Errorf("the display stays after finish:\n%s", scr)
	}
}

// TestProgressLogLine: without a terminal, one line every logEvery with
// every dataset, only when something moved.
func TestProgressLogLine(t *testing.T) {
	p, scr, clock, j := testProgress(t, "log")
	p.con.ansi, p.con.tty = false, false
	ev := p.events()
	ev.Start(j, 6, 1)
	ev.Page(shard(job.Ads, "FR"), 50)
	ev.ShardDone(shard(job.Ads, "FR"), done, nil)
	if len(scr.lines) != 2 { // the start line, and the empty line after it
		t.Fatalf("a log line before logEvery:\n%s", scr)
	}
	*clock = clock.Add(11 * time.Second)
	ev.Page(shard(job.Ads, "DE"), 20)
	if l := scr.line("ads 1 of ≥4 slices, 70 rows", "ad-reports 1 of 2 reports, 30 rows", "ad-details after ads", "job 2 of ≥6 shards done", "11s elapsed"); l == "" {
		t.Fatalf("no log line with the whole job:\n%s", scr)
	}
	lines := len(scr.lines)
	*clock = clock.Add(11 * time.Second)
	p.mu.Lock()
	p.updateLocked(true)
	p.mu.Unlock()
	if len(scr.lines) != lines+1 {
		t.Errorf("the ETA moved, so a line is due: %d lines, want %d", len(scr.lines), lines+1)
	}
}

// TestAskYesNo: y or yes confirms; anything else, an empty line or the end
// of the input does not; Ctrl-C (ctx) neither.
func TestAskYesNo(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "YES\n": true, " yes \n": true, "\n": false, "n\n": false, "": false, "sure\n": false} {
		var out strings.Builder
		got, err := askYesNo(context.Background(), strings.NewReader(in), &out, "discard?")
		if err != nil || got != want {
			t.Errorf("answer %q: %v %v, want %v", in, got, err, want)
		}
		if !strings.Contains(out.String(), "discard? [y/N] ") || !strings.HasSuffix(out.String(), "\n") && in == "" {
			t.Errorf("answer %q: asked %q", in, out.String())
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, w := io.Pipe()
	defer w.Close()
	if ok, err := askYesNo(ctx, r, &strings.Builder{}, "discard?"); ok || err == nil {
		t.Errorf("interrupted: %v %v, want no and an error", ok, err)
	}
}
