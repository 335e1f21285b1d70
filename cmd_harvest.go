package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"adharvest/checkpoint"
	"adharvest/harvest"
	"adharvest/sink"

	"github.com/urfave/cli/v2"
)

// harvestOptions is everything `harvest` needs, parsed from flags so tests can
// build it directly.
type harvestOptions struct {
	Out          string
	Job          harvest.Job
	JobGiven     bool // any job flag was set; otherwise the stored job resumes
	Restart      bool
	APIURL       string
	ClientKey    string
	ClientSecret string
	Concurrency  int
	RPS          float64
	DailyQuota   int
	DetailBudget int
	FlushPages   int
	Retry        harvest.RetryPolicy
	SearchIDWait time.Duration
	Progress     string // auto, bar, log, none
	Stderr       io.Writer
	Stdout       io.Writer
	Now          func() time.Time
}

const jobKey = "job"

var jobFlags = []string{"datasets", "countries", "from", "to", "window", "term", "search-type", "advertiser-id", "creator-username", "reach-min", "reach-max", "max-count"}

// queryFlags describe one query; a job file replaces them.
var queryFlags = []string{"countries", "from", "to", "term", "search-type", "advertiser-id", "creator-username", "reach-min", "reach-max"}

func harvestCommand() *cli.Command {
	return &cli.Command{
		Name:  "harvest",
		Usage: "harvest datasets into Parquet under --out, resumably",
		UsageText: `adharvest harvest --out DIR [--datasets LIST] [--countries LIST] --from DATE --to DATE [flags]

Examples:
   # every ad shown in the EEA in January 2024
   adharvest harvest --out eea-2024-01 --countries EEA --from 2024-01-01 --to 2024-01-31

   # ads matching two terms in France and Germany, in 14-day windows
   adharvest harvest --out elections --countries FR,DE --from 2024-05-01 --to 2024-06-09 \
       --term election --term wahl --window 14d

   # ads, their details, daily ad counts and paid partnerships for three countries
   adharvest harvest --out q1 --datasets ads,ad-details,ad-reports,commercial-content \
       --countries FR,DE,IT --from 2023-01-01 --to 2023-03-31

   # several queries at once, from a YAML or TOML job file (see README)
   adharvest harvest --out elections --job examples/elections.yaml

   # resume an interrupted harvest: same folder, no other flags
   adharvest harvest --out eea-2024-01

Credentials come from TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (or --client-key and
--client-secret-file). Exit codes: 0 complete, 75 stopped early but resumable (quota,
Ctrl-C), 2 bad input, 1 other failure.`,
		Flags: append(harvestFlags(), connectionFlags()...),
		Action: func(c *cli.Context) error {
			opts, err := harvestOptionsFrom(c)
			if err != nil {
				return err
			}
			return wrapAction(runHarvest(c.Context, opts))
		},
	}
}

func harvestFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "out", Usage: "output `DIR` (created if missing; required)"},
		&cli.StringFlag{Name: "job", Usage: "read datasets and queries from a YAML or TOML `FILE` instead of the query flags"},
		&cli.StringFlag{Name: "datasets", Usage: "comma `LIST` of ads,ad-details,ad-reports,commercial-content,advertisers", Value: "ads", DefaultText: "ads"},
		&cli.StringFlag{Name: "countries", Usage: "EEA, EU, ALL or a comma `LIST` of ISO codes", Value: "EEA", DefaultText: "EEA"},
		&cli.StringFlag{Name: "from", Usage: "first day, inclusive, `DATE` as YYYY-MM-DD or YYYYMMDD, on or after 2022-10-01"},
		&cli.StringFlag{Name: "to", Usage: "last day, inclusive, `DATE`, before today (UTC)"},
		&cli.StringFlag{Name: "window", Usage: "split the range into windows of `N` days (7, 7d, 2w)", Value: "7d", DefaultText: "7d"},
		&cli.StringSliceFlag{Name: "term", Usage: "search `TEXT` (at most 50 characters); repeatable"},
		&cli.StringFlag{Name: "search-type", Usage: "exact_phrase or fuzzy_phrase", Value: "exact_phrase", DefaultText: "exact_phrase"},
		&cli.StringSliceFlag{Name: "advertiser-id", Usage: "advertiser business `ID`; repeatable"},
		&cli.StringSliceFlag{Name: "creator-username", Usage: "commercial-content creator `NAME`; repeatable"},
		&cli.StringFlag{Name: "reach-min", Usage: "only ads seen by at least `SIZE` users (e.g. 10K)"},
		&cli.StringFlag{Name: "reach-max", Usage: "only ads seen by at most `SIZE` users (e.g. 1M)"},
		&cli.IntFlag{Name: "max-count", Usage: "page size, at most 50", Value: 50},
		&cli.BoolFlag{Name: "restart", Usage: "discard what --out holds (data and checkpoint) and start this job afresh"},
		&cli.IntFlag{Name: "concurrency", Usage: "shards fetched at once", Value: 4},
		&cli.Float64Flag{Name: "rps", Usage: "requests per second across all shards", Value: 4},
		&cli.IntFlag{Name: "daily-quota", Usage: "stop (exit 75) before spending more than `N` requests per UTC day; counted across runs", EnvVars: []string{"ADHARVEST_DAILY_QUOTA"}},
		&cli.IntFlag{Name: "detail-budget", Usage: "spend at most `N` ad/detail calls in this run (newest ads first; the rest stay owed)"},
		&cli.IntFlag{Name: "flush-pages", Usage: "pages per Parquet part file", Value: 20},
		&cli.StringFlag{Name: "progress", Usage: "auto, bar, log or none", Value: "auto"},
		// Hidden: shrink every wait, for tests against the fake API only.
		&cli.DurationFlag{Name: "retry-base", Hidden: true},
	}
}

func connectionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "api-url", Usage: "API base `URL`", Value: harvest.DefaultAPIURL, EnvVars: []string{"ADHARVEST_API_URL"}},
		&cli.StringFlag{Name: "client-key", Usage: "client `KEY`", EnvVars: []string{"TIKTOK_CLIENT_KEY"}},
		&cli.StringFlag{Name: "client-secret-file", Usage: "read the client secret from `FILE` instead of TIKTOK_CLIENT_SECRET"},
	}
}

func wrapAction(err error) error {
	if err == nil {
		return nil
	}
	var ue *harvest.UsageError
	var se *harvest.StopError
	if errors.As(err, &ue) || errors.As(err, &se) {
		return err
	}
	return &actionError{err: err}
}

func harvestOptionsFrom(c *cli.Context) (harvestOptions, error) {
	o := harvestOptions{
		Out: c.String("out"), Restart: c.Bool("restart"), APIURL: c.String("api-url"),
		Concurrency: c.Int("concurrency"), RPS: c.Float64("rps"), DailyQuota: c.Int("daily-quota"), DetailBudget: c.Int("detail-budget"),
		FlushPages: c.Int("flush-pages"), Progress: c.String("progress"),
		Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Now: time.Now,
	}
	for _, f := range jobFlags {
		if c.IsSet(f) {
			o.JobGiven = true
		}
	}
	if d := c.Duration("retry-base"); d > 0 {
		o.Retry = harvest.RetryPolicy{Initial: d, Max: 10 * d, MaxElapsed: 10000 * d, MaxAttempts: 15, MaxRetryAfter: 1500 * time.Millisecond}
		o.SearchIDWait = d
	}
	if f := c.String("job"); f != "" {
		for _, name := range jobFlags {
			if c.IsSet(name) {
				return o, harvest.Usagef("--job %s and --%s cannot be combined: put %s in the job file", f, name, name)
			}
		}
		job, err := harvest.LoadJobFile(f)
		if err != nil {
			return o, err
		}
		o.Job, o.JobGiven = job, true
	} else {
		days, err := harvest.ParseWindow(c.String("window"))
		if err != nil {
			return o, err
		}
		q := harvest.Query{
			Countries: harvest.SplitList(c.String("countries")), From: c.String("from"), To: c.String("to"),
			Terms: c.StringSlice("term"), SearchType: c.String("search-type"),
			CreatorUsernames: c.StringSlice("creator-username"),
			ReachMin:         c.String("reach-min"), ReachMax: c.String("reach-max"),
		}
		for _, s := range c.StringSlice("advertiser-id") {
			for _, part := range harvest.SplitList(s) {
				id, err := harvest.ParseAdvertiserID(part)
				if err != nil {
					return o, harvest.Usagef("--advertiser-id: %v", err)
				}
				q.AdvertiserIDs = append(q.AdvertiserIDs, id)
			}
		}
		o.Job = harvest.Job{Datasets: harvest.SplitList(c.String("datasets")), WindowDays: days, MaxCount: c.Int("max-count"), Queries: []harvest.Query{q}}
	}
	if err := credentialsFrom(c, &o); err != nil {
		return o, err
	}
	if o.Concurrency < 1 || o.Concurrency > 64 {
		return o, harvest.Usagef("--concurrency: %d is outside 1..64", o.Concurrency)
	}
	if o.RPS < 0 {
		return o, harvest.Usagef("--rps: %g must not be negative (0 means unlimited)", o.RPS)
	}
	if o.DetailBudget < 0 {
		return o, harvest.Usagef("--detail-budget: %d must not be negative (0 means no cap)", o.DetailBudget)
	}
	if o.DailyQuota < 0 {
		return o, harvest.Usagef("--daily-quota: %d must not be negative (0 means no budget)", o.DailyQuota)
	}
	if o.FlushPages < 1 {
		return o, harvest.Usagef("--flush-pages: %d must be at least 1", o.FlushPages)
	}
	switch o.Progress {
	case "auto", "bar", "log", "none":
	default:
		return o, harvest.Usagef("--progress: %q is not auto, bar, log or none", o.Progress)
	}
	return o, nil
}

// credentialsFrom reads the key and secret. The secret never comes from a flag
// value, where ps and shell history would show it.
func credentialsFrom(c *cli.Context, o *harvestOptions) error {
	o.ClientKey = strings.TrimSpace(c.String("client-key"))
	if f := c.String("client-secret-file"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return harvest.Usagef("--client-secret-file: %v", errors.Unwrap(err))
		}
		if fi, err := os.Stat(f); err == nil && fi.Mode().Perm()&0o077 != 0 {
			fmt.Fprintf(c.App.ErrWriter, "adharvest: warning: %s is readable by other users; chmod 600 it\n", f)
		}
		o.ClientSecret = strings.TrimSpace(string(b))
	} else {
		o.ClientSecret = strings.TrimSpace(os.Getenv("TIKTOK_CLIENT_SECRET"))
	}
	return nil
}

// storedJob reads the job a folder already holds, without creating anything.
func storedJob(out string) (harvest.Job, bool, error) {
	var job harvest.Job
	if _, err := os.Stat(checkpoint.Path(out)); err != nil {
		return job, false, nil
	}
	st, err := checkpoint.OpenReadOnly(out)
	if err != nil {
		if errors.Is(err, checkpoint.ErrBusy) {
			if _, lerr := checkpoint.Acquire(out); lerr != nil {
				return job, false, harvest.Usagef("%v", lerr)
			}
		}
		return job, false, err
	}
	defer st.Close()
	b, err := st.Meta(jobKey)
	if err != nil || b == nil {
		return job, false, err
	}
	return job, true, json.Unmarshal(b, &job)
}

// runHarvest validates everything, checks the credentials, and only then
// touches the output folder and crawls.
func runHarvest(ctx context.Context, o harvestOptions) error {
	now := o.Now()
	if o.Out == "" {
		return harvest.Usagef("--out is required: the folder to harvest into (created if missing), e.g. --out eea-2024-01")
	}
	prev, hasPrev, err := storedJob(o.Out)
	if err != nil {
		return err
	}
	job := o.Job
	switch {
	case o.JobGiven || !hasPrev:
		if err := job.Normalize(now, func(msg string) { fmt.Fprintln(o.Stderr, "adharvest: warning: "+msg) }); err != nil {
			return err
		}
		if hasPrev && !o.Restart && prev.Hash() != job.Hash() {
			return harvest.Usagef("%s already holds a different job (%s); re-run with no job flags to resume it, or add --restart to discard it", o.Out, describeJob(prev))
		}
	default:
		job = prev // resume, or --restart the stored job
	}
	if o.ClientKey == "" || o.ClientSecret == "" {
		return harvest.Usagef("missing credentials: set TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (or --client-key and --client-secret-file); try `adharvest demo` for an offline run")
	}
	if _, err := harvest.CheckAPIURL(o.APIURL); err != nil {
		return &harvest.UsageError{Msg: err.Error()}
	}
	if err := checkWritable(o.Out); err != nil {
		return err
	}
	shards := harvest.Plan(job)

	var store *checkpoint.Store
	runID := newRunID(now)
	quota := &quotaCounter{budget: o.DailyQuota, now: o.Now}
	client, err := harvest.NewClient(harvest.Config{
		APIURL: o.APIURL, ClientKey: o.ClientKey, ClientSecret: o.ClientSecret, RPS: o.RPS,
		Retry: o.Retry, OnRequest: quota.take,
	})
	if err != nil {
		return &harvest.UsageError{Msg: err.Error()}
	}
	// A wrong secret must fail before the folder is created or any quota spent.
	if err := client.CheckAuth(ctx); err != nil {
		return err
	}

	created := false
	if _, err := os.Stat(o.Out); os.IsNotExist(err) {
		created = true
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return harvest.Usagef("--out %s cannot be created: %v", o.Out, errors.Unwrap(err))
	}
	lock, err := checkpoint.Acquire(o.Out)
	if err != nil {
		if created {
			os.RemoveAll(o.Out)
		}
		return harvest.Usagef("%v", err)
	}
	defer lock.Release()
	store, err = checkpoint.Open(o.Out)
	if err != nil {
		return err
	}
	defer store.Close()
	quota.store = store

	if o.Restart {
		if err := discard(o.Out, store); err != nil {
			return err
		}
	}
	jb, _ := json.Marshal(job)
	if err := store.SetMeta(jobKey, jb); err != nil {
		return err
	}

	man, err := harvest.ReadManifest(o.Out)
	if err != nil || man.JobHash != job.Hash() {
		man = harvest.Manifest{Created: now.UTC()}
	}
	man.Tool, man.Version, man.Job, man.JobHash = "adharvest", version, job, job.Hash()
	man.APIURL = redactURL(o.APIURL)
	live := &liveManifest{out: o.Out, job: job, shards: shards, store: store, man: man, now: o.Now}
	run := harvest.RunRecord{RunID: runID, Started: now.UTC(), Status: "running"}
	if err := live.write(run, true); err != nil {
		return err
	}
	prog := newProgress(o, job, shards, store)
	crawler := &harvest.Crawler{
		Client: client, Store: store, Out: o.Out, RunID: runID,
		Concurrency: o.Concurrency, FlushPages: o.FlushPages, SearchIDWait: o.SearchIDWait, DetailBudget: o.DetailBudget,
		Events: prog.events(), Logf: prog.logf,
	}
	client.SetLogf(prog.logf)
	stopLive := live.every(10*time.Second, func() harvest.RunRecord {
		r := run
		r.Requests = crawler.Requests()
		return r
	})
	crawlErr := crawler.Run(ctx, shards)
	var fe *harvest.FailedError
	if job.Has(harvest.DatasetAdDetails) && (crawlErr == nil || errors.As(crawlErr, &fe)) {
		if err := crawler.RunDetails(ctx); err != nil {
			crawlErr = err
		}
	}
	prog.finish()

	stopLive()
	run.Ended = time.Now().UTC()
	run.Requests = crawler.Requests()
	var se *harvest.StopError
	switch {
	case crawlErr == nil:
		run.Status = "complete"
	case errors.As(crawlErr, &se):
		run.Status, run.Message = "stopped", se.Reason
	default:
		run.Status, run.Message = "failed", crawlErr.Error()
	}
	live.man.Complete = crawlErr == nil
	if err := live.write(run, false); err != nil && crawlErr == nil {
		crawlErr = err
	}
	man = live.man
	printSummary(o.Stderr, o.Out, man, run)
	return crawlErr
}

func describeJob(j harvest.Job) string {
	from, to := j.Span()
	s := fmt.Sprintf("%s for %d countries, %s to %s", strings.Join(j.Datasets, ","), len(j.Countries()), from, to)
	if len(j.Queries) > 1 {
		s += fmt.Sprintf(" (%d queries)", len(j.Queries))
	}
	return s
}

// checkWritable fails early, before any request, on a folder the user cannot
// write. It creates nothing.
func checkWritable(out string) error {
	dir := out
	for {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return harvest.Usagef("--out %s: %s is not a directory", out, dir)
			}
			f, err := os.CreateTemp(dir, sink.TempPrefix+"probe-*")
			if err != nil {
				return harvest.Usagef("--out %s is not writable (%v); choose a folder you can write to", out, errors.Unwrap(err))
			}
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return harvest.Usagef("--out %s: no existing parent folder", out)
		}
		dir = parent
	}
}

// discard removes everything a previous job wrote, for --restart.
func discard(out string, store *checkpoint.Store) error {
	for _, t := range sink.Tables {
		if err := os.RemoveAll(t.Dir(out)); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(filepath.Join(out, "raw")); err != nil {
		return err
	}
	os.Remove(harvest.ManifestPath(out))
	os.Remove(filepath.Join(out, "report.html")) // it describes the discarded data
	return store.Reset()
}

func newRunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func redactURL(u string) string {
	if p, err := harvest.CheckAPIURL(u); err == nil {
		return p.String()
	}
	return ""
}

// liveManifest rewrites manifest.json at the start and end of a run and every
// few seconds in between, so that status can report on a folder whose
// checkpoint a running harvest holds.
type liveManifest struct {
	mu     sync.Mutex
	out    string
	job    harvest.Job
	shards []*harvest.Shard
	store  *checkpoint.Store
	man    harvest.Manifest
	now    func() time.Time
}

// write records run (appending it when first) with fresh counts.
func (l *liveManifest) write(run harvest.RunRecord, first bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if first {
		l.man.Runs = append(l.man.Runs, run)
	} else {
		l.man.Runs[len(l.man.Runs)-1] = run
	}
	if states, err := l.store.Shards(); err == nil {
		l.man.Datasets = harvest.Count(l.job, l.shards, states)
		l.man.LastError = harvest.LastError(states)
	}
	day := l.now().UTC().Format("2006-01-02")
	if n, err := l.store.Usage(day); err == nil {
		l.man.Usage = &harvest.Usage{Day: day, Requests: n}
	}
	return harvest.WriteManifest(l.out, l.man)
}

// every rewrites the manifest periodically until the returned stop is called.
func (l *liveManifest) every(d time.Duration, run func() harvest.RunRecord) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = l.write(run(), false)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// quotaCounter records every data request in the checkpoint before it is sent,
// per UTC day, and enforces the user's --daily-quota budget exactly.
type quotaCounter struct {
	store  *checkpoint.Store
	budget int
	now    func() time.Time
}

func (q *quotaCounter) take(endpoint string) error {
	if q.store == nil {
		return nil
	}
	day := q.now().UTC().Format("2006-01-02")
	used, ok, err := q.store.TakeUsage(day, q.budget)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %d of %d requests used on %s UTC", harvest.ErrBudget, used, q.budget, day)
	}
	return nil
}
