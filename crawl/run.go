package crawl

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/sink"
	"adharvest/tiktok"
)

// metaJob is the checkpoint key of the folder's job.
const metaJob = "job"

// Options is everything one harvest run needs.
type Options struct {
	// Dir is the output folder, created if missing.
	Dir string
	// Job is the job to harvest, not yet normalized; nil resumes the job the
	// folder holds (or, with Restart, starts it afresh).
	Job *job.Job
	// Restart discards what the folder holds first.
	Restart bool
	// API is the client configuration; its OnRequest and Logf are set by Run.
	API          tiktok.Config
	Concurrency  int
	FlushPages   int
	DailyQuota   int // the user's own per-day request budget; 0 for none
	DetailBudget int // ad/detail calls this run may spend; 0 for no cap
	SearchIDWait time.Duration
	// Version is the tool version the manifest records.
	Version string
	Events  Events
	// Logf receives notices (retries, restarts); Warn one-line warnings about
	// the job. Either may be nil.
	Logf func(format string, args ...any)
	Warn func(msg string)
	Now  func() time.Time
}

// Result is how a run ended: the job it ran, its run record and the manifest
// as written at the end.
type Result struct {
	Job      job.Job
	Run      manifest.RunRecord
	Manifest manifest.Manifest
}

// Run harvests a job into an output folder: it validates the job against the
// folder, checks the credentials, takes the folder's lock, opens the
// checkpoint (discarding it with Restart), keeps the manifest fresh, counts
// every request against the daily budget, crawls the shards and then the
// ad/detail fan-out, and records how the run ended.
//
// It returns nil when the job is complete, a *StopError when it stopped early
// but resumably, a *FailedError when shards failed for good, and an
// *InputError or *job.FieldError, before anything is sent or written, for a
// harvest it refuses.
func Run(ctx context.Context, o Options) (Result, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
	now := o.Now()
	var res Result
	if o.Dir == "" {
		return res, inputErr("no output folder given")
	}
	f := folder.New(o.Dir)
	prev, hasPrev, err := storedJob(f)
	if err != nil {
		return res, err
	}
	var j job.Job
	switch {
	case o.Job != nil || !hasPrev:
		if o.Job != nil {
			j = *o.Job
		}
		if err := j.Normalize(now, o.Warn); err != nil {
			return res, err
		}
		if hasPrev && !o.Restart && prev.Hash() != j.Hash() {
			return res, inputErr("%s already holds a different job (%s); re-run with no job flags to resume it, or add --restart to discard it", o.Dir, prev.Describe())
		}
	default:
		j = prev // resume, or --restart the stored job
	}
	res.Job = j
	if o.API.ClientKey == "" || o.API.ClientSecret == "" {
		return res, inputErr("missing credentials: set TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (or --client-key and --client-secret-file); try `adharvest demo` for an offline run")
	}
	if _, err := tiktok.CheckAPIURL(o.API.APIURL); err != nil {
		return res, &InputError{Msg: err.Error(), Err: err}
	}
	if err := checkWritable(o.Dir); err != nil {
		return res, err
	}
	shards := Plan(j)

	runID := newRunID(now)
	quota := &quotaCounter{budget: o.DailyQuota, now: o.Now}
	api := o.API
	api.OnRequest, api.Logf = quota.take, o.Logf
	client, err := tiktok.NewClient(api)
	if err != nil {
		return res, &InputError{Msg: err.Error(), Err: err}
	}
	// A wrong secret must fail before the folder is created or any quota spent.
	if err := client.CheckAuth(ctx); err != nil {
		return res, err
	}

	created := false
	if _, err := os.Stat(o.Dir); os.IsNotExist(err) {
		created = true
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return res, inputErr("--out %s cannot be created: %v", o.Dir, errors.Unwrap(err))
	}
	lock, err := checkpoint.Acquire(f.Lock(), o.Dir)
	if err != nil {
		if created {
			os.RemoveAll(o.Dir)
		}
		return res, &InputError{Msg: err.Error(), Err: err}
	}
	defer lock.Release()
	store, err := checkpoint.Open(f.Checkpoint())
	if err != nil {
		return res, err
	}
	defer store.Close()
	quota.store = store

	if o.Restart {
		if err := discard(f, store); err != nil {
			return res, err
		}
	}
	jb, _ := json.Marshal(j)
	if err := store.SetMeta(metaJob, jb); err != nil {
		return res, err
	}
	if err := backfillAdIndex(f, store); err != nil {
		return res, err
	}

	man, err := manifest.Read(f.Manifest())
	if err != nil || man.JobHash != j.Hash() {
		man = manifest.Manifest{Created: now.UTC()}
	}
	man.Tool, man.Version, man.Job, man.JobHash = "adharvest", o.Version, j, j.Hash()
	man.APIURL = redactURL(o.API.APIURL)
	live := &liveManifest{path: f.Manifest(), job: j, shards: shards, store: store, man: man, now: o.Now}
	run := manifest.RunRecord{RunID: runID, Started: now.UTC(), Status: manifest.RunRunning}
	if err := live.write(run, true); err != nil {
		return res, err
	}
	if o.Events.Start != nil {
		o.Events.Start(j, len(shards), doneShards(store, shards))
	}
	crawler := &Crawler{
		Client: client, Store: store, Folder: f, RunID: runID,
		Concurrency: o.Concurrency, FlushPages: o.FlushPages, SearchIDWait: o.SearchIDWait, DetailBudget: o.DetailBudget,
		Events: o.Events, Logf: o.Logf,
	}
	stopLive := live.every(10*time.Second, func() manifest.RunRecord {
		r := run
		r.Requests = crawler.Requests()
		return r
	})
	crawlErr := crawler.Run(ctx, shards)
	var fe *FailedError
	if j.Has(job.AdDetails) && (crawlErr == nil || errors.As(crawlErr, &fe)) {
		if err := crawler.RunDetails(ctx); err != nil {
			crawlErr = err
		}
	}
	stopLive()

	run.Ended = time.Now().UTC()
	run.Requests = crawler.Requests()
	var se *StopError
	switch {
	case crawlErr == nil:
		run.Status = manifest.RunComplete
	case errors.As(crawlErr, &se):
		run.Status, run.Message = manifest.RunStopped, se.Reason
	default:
		run.Status, run.Message = manifest.RunFailed, crawlErr.Error()
	}
	live.man.Complete = crawlErr == nil
	if err := live.write(run, false); err != nil && crawlErr == nil {
		crawlErr = err
	}
	res.Run, res.Manifest = run, live.man
	return res, crawlErr
}

// doneShards counts the planned shards the checkpoint records as done.
func doneShards(store *checkpoint.Store, shards []*Shard) int {
	states, _ := store.Shards()
	done := map[string]bool{}
	for _, s := range states {
		if s.Status == checkpoint.StatusDone {
			done[s.ID] = true
		}
	}
	n := 0
	for _, sh := range shards {
		if done[sh.ID] {
			n++
		}
	}
	return n
}

// StoredJob reads the job an output folder holds, without creating anything;
// ok is false when it holds none.
func StoredJob(dir string) (j job.Job, ok bool, err error) { return storedJob(folder.New(dir)) }

func storedJob(f folder.Folder) (job.Job, bool, error) {
	var j job.Job
	if _, err := os.Stat(f.Checkpoint()); err != nil {
		return j, false, nil
	}
	st, err := checkpoint.OpenReadOnly(f.Checkpoint())
	if err != nil {
		if errors.Is(err, checkpoint.ErrBusy) {
			if _, lerr := checkpoint.Acquire(f.Lock(), f.Dir); lerr != nil {
				return j, false, &InputError{Msg: lerr.Error(), Err: lerr}
			}
		}
		return j, false, err
	}
	defer st.Close()
	b, err := st.Meta(metaJob)
	if err != nil || b == nil {
		return j, false, err
	}
	return j, true, json.Unmarshal(b, &j)
}

// checkWritable fails early, before any request, on a folder the user cannot
// write. It creates nothing.
func checkWritable(out string) error {
	dir := out
	for {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return inputErr("--out %s: %s is not a directory", out, dir)
			}
			f, err := os.CreateTemp(dir, sink.TempPrefix+"probe-*")
			if err != nil {
				return inputErr("--out %s is not writable (%v); choose a folder you can write to", out, errors.Unwrap(err))
			}
			f.Close()
			os.Remove(f.Name())
			return nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return inputErr("--out %s: no existing parent folder", out)
		}
		dir = parent
	}
}

// discard removes everything a previous job wrote, for --restart.
func discard(f folder.Folder, store *checkpoint.Store) error {
	for _, p := range f.Artifacts() {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	return store.Reset()
}

func newRunID(now time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func redactURL(u string) string {
	if p, err := tiktok.CheckAPIURL(u); err == nil {
		return p.String()
	}
	return ""
}

// liveManifest rewrites manifest.json at the start and end of a run and every
// few seconds in between, so that status can report on a folder whose
// checkpoint a running harvest holds.
type liveManifest struct {
	mu     sync.Mutex
	path   string
	job    job.Job
	shards []*Shard
	store  *checkpoint.Store
	man    manifest.Manifest
	now    func() time.Time
}

// write records run (appending it when first) with fresh counts.
func (l *liveManifest) write(run manifest.RunRecord, first bool) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if first {
		l.man.Runs = append(l.man.Runs, run)
	} else {
		l.man.Runs[len(l.man.Runs)-1] = run
	}
	if states, err := l.store.Shards(); err == nil {
		l.man.Datasets = Count(l.job, l.shards, states)
		l.man.LastError = LastError(states)
	}
	day := l.now().UTC().Format("2006-01-02")
	if n, err := l.store.Usage(day); err == nil {
		l.man.Usage = &manifest.Usage{Day: day, Requests: n}
	}
	return manifest.Write(l.path, l.man)
}

// every rewrites the manifest periodically until the returned stop is called.
func (l *liveManifest) every(d time.Duration, run func() manifest.RunRecord) (stop func()) {
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
		return fmt.Errorf("%w: %d of %d requests used on %s UTC", ErrBudget, used, q.budget, day)
	}
	return nil
}
