package commands

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"adharvest/checkpoint"
	"adharvest/crawl"
	"adharvest/job"
	"adharvest/tiktok"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a crawl's advance on stderr: a bar on a terminal, a plain log
// line every logEvery otherwise, so that nohup logs and CI stay readable.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	bar      *progressbar.ProgressBar
	mode     string
	phase    string // "" for shards, or the name of a fan-out phase
	total    int
	done     int
	failed   int
	rows     int64
	pages    int64
	started  time.Time
	lastLog  time.Time
	logEvery time.Duration
}

func newProgress(w io.Writer, mode string) *progress {
	p := &progress{w: w, mode: mode, started: time.Now(), logEvery: 10 * time.Second}
	if p.w == nil {
		p.w = io.Discard
	}
	if p.mode == "auto" {
		p.mode = "log"
		if f, ok := p.w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
			p.mode = "bar"
		}
	}
	return p
}

// start shows the job and how much of it is done, before the first request.
func (p *progress) start(j job.Job, shards, done int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.done = shards, done
	fmt.Fprintf(p.w, "adharvest: %s: %d shards, %d already done\n", j.Describe(), p.total, p.done)
	if p.mode == "bar" {
		p.bar = p.newBar(p.total, "shards")
		_ = p.bar.Set(p.done)
	}
}

func (p *progress) newBar(total int, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *progress) events() crawl.Events {
	return crawl.Events{
		Start: p.start,
		Page: func(sh *crawl.Shard, items int) {
			p.mu.Lock()
			defer p.mu.Unlock()
			p.pages++
			p.rows += int64(items)
			if p.phase != "" {
				p.done++ // in a fan-out phase every page is one unit of work
			}
			p.update()
		},
		Phase: func(name string, total int) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.bar != nil {
				_ = p.bar.Finish()
				fmt.Fprintln(p.w)
			}
			p.phase, p.total, p.done, p.failed = name, total, 0, 0
			if p.mode != "none" {
				fmt.Fprintf(p.w, "adharvest: %s: %d to fetch\n", name, total)
			}
			if p.mode == "bar" {
				p.bar = p.newBar(total, name)
			}
		},
		ShardDone: func(sh *crawl.Shard, st checkpoint.Shard, err error) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.phase != "" {
				return // a fan-out phase counts its pages, not its one shard
			}
			switch {
			case err == nil:
				p.done++
			case st.Status == checkpoint.StatusFailed:
				p.failed++
				p.printLocked("shard %s failed: %v", sh.ID, err)
			}
			p.update()
		},
	}
}

func (p *progress) update() {
	switch p.mode {
	case "bar":
		p.bar.Describe(fmt.Sprintf("%d rows, %d pages", p.rows, p.pages))
		_ = p.bar.Set(p.done)
	case "log":
		if time.Since(p.lastLog) >= p.logEvery {
			p.lastLog = time.Now()
			what := "shards done"
			if p.phase != "" {
				what = p.phase + " fetched"
			}
			fmt.Fprintf(p.w, "adharvest: %d/%d %s, %d failed, %d rows in %d pages, %s elapsed\n",
				p.done, p.total, what, p.failed, p.rows, p.pages, time.Since(p.started).Round(time.Second))
		}
	}
}

// logf prints a notice (retries, restarts) without tearing the bar.
func (p *progress) logf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.printLocked(format, args...)
}

func (p *progress) printLocked(format string, args ...any) {
	if p.mode == "none" {
		return
	}
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintf(p.w, "adharvest: "+format+"\n", args...)
	if p.bar != nil {
		_ = p.bar.RenderBlank()
	}
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
	}
}

// printSummary states what the run did, per dataset, with the request bill
// against the minimum any client would need.
func printSummary(w io.Writer, out string, res crawl.Result) {
	m, run := res.Manifest, res.Run
	fmt.Fprintf(w, "adharvest: run %s %s after %s; %d requests this run%s\n", run.RunID, run.Status, run.Ended.Sub(run.Started).Round(time.Second), run.Requests, byEndpoint(res.Sent, res.Throttled))
	for _, d := range m.Job.Datasets {
		c := m.Datasets[d]
		fmt.Fprintf(w, "  %-19s %d/%d shards done, %d failed, %d rows, %d requests (minimum %d)\n", d, c.Done, c.Shards, c.Failed, c.Rows, c.Requests, c.MinRequests)
	}
	fmt.Fprintf(w, "  output: %s (query it: adharvest sql --out %s \"SELECT count(*) FROM ads\")\n", out, out)
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
