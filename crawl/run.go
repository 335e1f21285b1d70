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
	"strings"
	"sync"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/media"
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
	// ExtendTo, with Job nil, moves the last day of every query of the
	// folder's job to this day (a date, or yesterday): `harvest --out DIR
	// --to yesterday`, the nightly run.
	ExtendTo string
	// Restart discards what the folder holds first.
	Restart bool
	// APIFromFolder says API.APIURL is the one the folder was harvested
	// from rather than one the user gave; the run says so in its log.
	APIFromFolder bool
	// API is the client configuration; its OnRequest and Logf are set by Run.
	API          tiktok.Config
	Concurrency  int
	FlushPages   int
	DailyQuota   int // the user's own per-day request budget; 0 for none
	DetailBudget int // ad/detail calls this run may spend; 0 for no cap
	// RecheckDays re-checks with ad/detail the ads still active whose
	// last_shown_date is that many days old (0: never; see Crawler).
	RecheckDays  int
	SearchIDWait time.Duration
	// MaxPages bounds the pages of one slice; 0 is the default (see
	// Crawler.MaxPages).
	MaxPages int
	// SlicePages, when above 0, keeps planned slices within so many pages
	// (a day's quota), as far as whole days allow.
	SlicePages int
	// PlanOnly sends only the report requests the plan needs, and returns
	// the plan's Estimate instead of harvesting (adharvest plan). The
	// answers stay in the folder, so a later harvest does not ask again.
	PlanOnly bool
	// Media configures the download of creatives when the job has the
	// dataset media (see package media); its RunID, Now and Logf are the
	// run's.
	Media media.Options
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
	// Sent and Throttled count this run's requests per endpoint, as the
	// server saw them (retries and refused calls included), and the answers
	// that were throttled.
	Sent, Throttled map[string]int64
	// Estimate is the plan's cost, for a PlanOnly run.
	Estimate *Estimate
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
	o.defaults()
	r := &run{o: o, f: folder.New(o.Dir), now: o.Now()}
	if err := r.prepare(ctx); err != nil {
		return Result{Job: r.job}, err
	}
	release, err := r.open()
	if err != nil {
		return Result{Job: r.job}, err
	}
	defer release()
	if err := r.start(); err != nil {
		return Result{Job: r.job}, err
	}
	if o.PlanOnly {
		return r.planOnly(ctx)
	}
	crawlErr := r.crawl(ctx)
	return r.finish(crawlErr)
}

// planOnly runs the plan's report requests, and prices the plan.
func (r *run) planOnly(ctx context.Context) (Result, error) {
	r.crawler = r.newCrawler()
	reports := &plan{job: r.job, reports: r.plan.reports, planning: r.plan.planning}
	err := r.crawler.RunPlan(ctx, reports)
	done := 0
	for _, sh := range r.plan.reports {
		if st, ok, _ := r.store.Shard(sh.ID); ok && st.Status == checkpoint.StatusDone {
			done++
		}
	}
	est := estimate(r.f, r.store, r.plan, r.o.SlicePages, done, r.o.Now())
	res, ferr := r.finish(err)
	res.Estimate = &est
	return res, ferr
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if o.Warn == nil {
		o.Warn = func(string) {}
	}
}

// run is one harvest run in progress.
type run struct {
	o       Options
	f       folder.Folder
	now     time.Time
	job     job.Job
	plan    *plan
	damaged bool // --restart found the checkpoint damaged
	// prevHash is the hash of the job the folder held, "" for none: a job
	// extended in place keeps the folder's manifest and its runs.
	prevHash string
	client   *tiktok.Client
	quota    *quotaCounter
	store    *checkpoint.Store
	live     *liveManifest
	record   manifest.RunRecord
	crawler  *Crawler
	// mediaDone is set once a media queue wrote the media tables.
	mediaDone bool
}

// prepare decides the job, checks it against the folder and checks the
// credentials, before anything is written.
func (r *run) prepare(ctx context.Context) error {
	o := r.o
	if o.Dir == "" {
		return inputErr("no output folder given")
	}
	prev, hasPrev, err := storedJob(r.f)
	var ce *checkpoint.CorruptError
	switch {
	case errors.As(err, &ce) && o.Restart:
		r.damaged = true // set aside by open, then started afresh
		if o.Job == nil {
			// The stored job is unreadable; the manifest says it too.
			man, merr := manifest.Read(r.f.Manifest())
			if merr != nil || len(man.Job.Queries) == 0 {
				return inputErr("%s: %v, and there is no readable %s to say what the job was; give the job's flags with --restart", o.Dir, ce, filepath.Base(r.f.Manifest()))
			}
			prev, hasPrev = man.Job, true
		}
	case errors.As(err, &ce):
		return &DamageError{Err: err, Msg: fmt.Sprintf("%s: %v; rebuild it from the folder with `adharvest check --out %s --repair`, or add --restart to set it aside and harvest afresh", o.Dir, ce, o.Dir)}
	case err != nil:
		return err
	case !hasPrev && !o.Restart:
		if p := firstPart(r.f); p != "" {
			return inputErr("%s holds harvested data (%s) but no checkpoint (%s), so adharvest cannot tell what it holds; rebuild the checkpoint from the data with `adharvest check --out %s --repair`, or add --restart to discard the data and start afresh",
				o.Dir, r.f.Rel(p), folder.CheckpointName(), o.Dir)
		}
	}
	cut := provisionalFrom(r.now)
	extend := func(next job.Job) error {
		merged, _, err := job.Extend(prev, next, cut)
		if err == nil {
			// A query asked up to yesterday moves on to the new
			// yesterday, whatever else the command asked.
			if rolled, ok := merged.Rolled(r.now); ok {
				merged, _, err = job.Extend(merged, rolled, cut)
			}
		}
		if err != nil {
			return &InputError{Err: err, Msg: fmt.Sprintf("%s already holds a different job (%s): %v. A query's filters cannot change in place: re-run with the stored filters (or with no job flags) to resume or extend it, or add --restart to discard it and start afresh",
				o.Dir, prev.Describe(), err)}
		}
		r.job = merged
		return nil
	}
	if hasPrev && !o.Restart {
		r.prevHash = prev.Hash()
	}
	switch {
	case o.Job != nil || !hasPrev:
		if o.Job != nil {
			r.job = *o.Job
		}
		if err := r.job.Normalize(r.now, o.Warn); err != nil {
			return err
		}
		if hasPrev && !o.Restart {
			// More of the stored job (a later --to, more countries, terms,
			// datasets or queries) extends it; the same job resumes it.
			if err := extend(r.job); err != nil {
				return err
			}
		} else {
			r.job.Pin(cut)
		}
	case o.ExtendTo != "" && !o.Restart:
		next := prev.WithTo(o.ExtendTo)
		if err := next.Normalize(r.now, o.Warn); err != nil {
			return err
		}
		if err := extend(next); err != nil {
			return err
		}
	case o.Restart:
		// The stored job afresh: every day planned anew, the last day
		// moved on when it was asked as yesterday.
		r.job = prev.Unpinned()
		if o.ExtendTo != "" {
			r.job = r.job.WithTo(o.ExtendTo)
		} else if rolled, ok := r.job.Rolled(r.now); ok {
			r.job = rolled
		}
		if err := r.job.Normalize(r.now, o.Warn); err != nil {
			return err
		}
		r.job.Pin(cut)
	default:
		// A resume; a job asked up to yesterday moves on to the new one.
		if err := extend(prev); err != nil {
			return err
		}
	}
	if o.API.ClientKey == "" || o.API.ClientSecret == "" {
		return inputErr("missing credentials: set TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (or --client-key and --client-secret-file); try `adharvest demo` for an offline run")
	}
	if _, err := tiktok.CheckAPIURL(o.API.APIURL); err != nil {
		return &InputError{Msg: err.Error(), Err: err}
	}
	if err := checkWritable(o.Dir); err != nil {
		return err
	}
	r.plan = newPlan(r.job)
	r.quota = &quotaCounter{budget: o.DailyQuota, now: o.Now}
	api := o.API
	if api.AutoRate && api.InitialRate == 0 {
		// Start where the last run against the same API left off.
		if man, err := manifest.Read(r.f.Manifest()); err == nil && man.LearnedRPS > 0 && man.APIURL == redactURL(api.APIURL) {
			api.InitialRate = man.LearnedRPS
		}
	}
	api.OnSend, api.Logf = r.quota.take, o.Logf
	api.OnThrottle = r.quota.throttled
	if r.client, err = tiktok.NewClient(api); err != nil {
		return &InputError{Msg: err.Error(), Err: err}
	}
	// A wrong secret must fail before the folder is created or any quota spent.
	return r.client.CheckAuth(ctx)
}

// open creates the folder, takes its lock and opens the checkpoint (emptied
// with Restart); release undoes it.
func (r *run) open() (release func(), err error) {
	created := false
	if _, err := os.Stat(r.o.Dir); os.IsNotExist(err) {
		created = true
	}
	if err := os.MkdirAll(r.o.Dir, 0o755); err != nil {
		return nil, inputErr("--out %s cannot be created: %v", r.o.Dir, errors.Unwrap(err))
	}
	lock, err := checkpoint.Acquire(r.f.Lock(), r.o.Dir)
	if err != nil {
		if created {
			os.RemoveAll(r.o.Dir)
		}
		return nil, &InputError{Msg: err.Error(), Err: err}
	}
	if r.damaged {
		// Kept, not deleted: it may still matter to whoever looks into why.
		aside := r.f.Checkpoint() + ".damaged-" + r.now.UTC().Format("20060102T150405Z")
		if err := os.Rename(r.f.Checkpoint(), aside); err != nil {
			lock.Release()
			return nil, fmt.Errorf("set the damaged checkpoint aside: %w", err)
		}
		r.o.Logf("the damaged checkpoint is kept as %s", r.f.Rel(aside))
	}
	store, err := checkpoint.Open(r.f.Checkpoint())
	if err != nil {
		lock.Release()
		return nil, err
	}
	release = func() { store.Close(); lock.Release() }
	r.store, r.quota.store = store, store
	store.SetClock(r.o.Now)
	// A reparse killed while it swapped tables in is finished first, so that
	// the crawl adds to the tables its checkpoint names.
	if done, err := finishSwap(r.f, store); err != nil {
		release()
		return nil, err
	} else if done {
		r.o.Logf("finished the table swap of an interrupted reparse")
	}
	if r.o.Restart {
		if err := discard(r.f, store); err != nil {
			release()
			return nil, err
		}
	}
	jb, _ := json.Marshal(r.job)
	if err := store.SetMeta(metaJob, jb); err != nil {
		release()
		return nil, err
	}
	if err := backfillAdIndex(r.f, store); err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// start writes the manifest of the new run and tells the progress display.
func (r *run) start() error {
	man, err := manifest.Read(r.f.Manifest())
	if err != nil || (man.JobHash != r.job.Hash() && (r.prevHash == "" || man.JobHash != r.prevHash)) {
		// A new job; the rate learned from the same API still holds.
		man = manifest.Manifest{Created: r.now.UTC(), APIURL: man.APIURL, LearnedRPS: man.LearnedRPS}
	}
	if man.APIURL != redactURL(r.o.API.APIURL) {
		man.LearnedRPS = 0
	}
	man.Tool, man.Version, man.Job, man.JobHash = "adharvest", r.o.Version, r.job, r.job.Hash()
	man.APIURL = redactURL(r.o.API.APIURL)
	if !r.o.PlanOnly {
		// What the next plain resume uses for the flags it is not given.
		man.Settings = &manifest.Settings{
			RPS: manifest.RateText(r.o.API.RPS, r.o.API.AutoRate), Concurrency: r.o.Concurrency,
			DetailBudget: r.o.DetailBudget, DailyQuota: r.o.DailyQuota, RecheckDays: r.o.RecheckDays,
		}
	}
	known := func() ([]*Shard, int) {
		return knownShards(r.f, r.store, r.plan, r.o.SlicePages, r.o.Now())
	}
	r.live = &liveManifest{path: r.f.Manifest(), job: r.job, shards: known, store: r.store, man: man, now: r.o.Now}
	r.record = manifest.RunRecord{RunID: newRunID(r.now), Started: r.now.UTC(), Status: manifest.RunRunning}
	if err := r.live.write(r.record, true); err != nil {
		return err
	}
	if r.o.APIFromFolder {
		r.o.Logf("harvesting from %s, the API this folder was harvested from (give --api-url to change it)", man.APIURL)
	}
	if r.o.Events.Start != nil {
		shards, waiting := known()
		r.o.Events.Start(r.job, len(shards)+waiting, doneShards(r.store, shards))
	}
	return nil
}

// crawl runs the shards, then the ad/detail fan-out, with the manifest
// refreshed every ten seconds.
func (r *run) crawl(ctx context.Context) error {
	r.crawler = r.newCrawler()
	stopLive := r.live.every(10*time.Second, func() manifest.RunRecord {
		rec := r.record
		rec.Requests = r.crawler.Requests()
		return rec
	})
	defer stopLive()
	var mq *media.Queue
	if r.job.Has(job.Media) && !r.o.PlanOnly {
		// Creatives download while the crawl goes on: every part committed
		// adds its links, so that signed links are fetched while fresh.
		mo := r.o.Media
		mo.RunID, mo.Now, mo.Logf = r.record.RunID, r.o.Now, r.o.Logf
		q, err := media.Start(ctx, r.f, r.store, mo)
		if err != nil {
			return err
		}
		mq = q
		r.crawler.onFlushed = func(files []checkpoint.File) {
			for _, f := range files {
				if !f.Raw && media.IsSource(f.Table) {
					if err := mq.AddPart(f.Table, r.f.Abs(f.Path)); err != nil {
						r.o.Logf("media: %v; its links are skipped", err)
					}
				}
			}
		}
	}
	err := r.crawlData(ctx)
	if mq != nil {
		_, merr := mq.Finish()
		r.mediaDone = true
		var se *media.StopError
		switch {
		case merr == nil || err != nil:
		case errors.As(merr, &se):
			err = &StopError{Reason: se.Reason, Err: se}
		default:
			err = merr
		}
	}
	return err
}

// crawlData runs the shards, then (or alongside) the ad/detail fan-out.
func (r *run) crawlData(ctx context.Context) error {
	if r.job.Has(job.AdDetails) && r.o.DetailBudget == 0 && !r.o.PlanOnly {
		return r.crawler.RunPlanWithDetails(ctx, r.plan)
	}
	err := r.crawler.RunPlan(ctx, r.plan)
	var fe *FailedError
	if r.job.Has(job.AdDetails) && (err == nil || errors.As(err, &fe)) {
		if derr := r.crawler.RunDetails(ctx); derr != nil {
			err = derr
		}
	}
	return err
}

func (r *run) newCrawler() *Crawler {
	o := r.o
	return &Crawler{
		Client: r.client, Store: r.store, Folder: r.f, RunID: r.record.RunID,
		Concurrency: o.Concurrency, FlushPages: o.FlushPages, SearchIDWait: o.SearchIDWait, DetailBudget: o.DetailBudget, RecheckDays: o.RecheckDays,
		MaxPages: o.MaxPages, SlicePages: o.SlicePages, Events: o.Events, Logf: o.Logf, Now: o.Now,
	}
}

// finish records how the run ended.
func (r *run) finish(crawlErr error) (Result, error) {
	rec := r.record
	rec.Ended = time.Now().UTC()
	rec.Requests = r.crawler.Requests()
	var se *StopError
	switch {
	case crawlErr == nil && r.o.PlanOnly:
		rec.Status = manifest.RunPlanned
	case crawlErr == nil:
		rec.Status = manifest.RunComplete
	case errors.As(crawlErr, &se):
		rec.Status, rec.Message = manifest.RunStopped, se.Reason
	default:
		rec.Status, rec.Message = manifest.RunFailed, crawlErr.Error()
	}
	r.live.man.Complete = crawlErr == nil && !r.o.PlanOnly
	if l := r.client.LearnedRate(); l > 0 {
		r.live.man.LearnedRPS = l
	}
	if cov, err := writeCoverage(r.f, r.store, r.plan, r.o.Now()); err == nil {
		r.live.man.Coverage = &cov
	} else if crawlErr == nil {
		crawlErr = err
	}
	if !r.mediaDone && !r.o.PlanOnly && mediaKept(r.f, r.job) {
		// The media tables list every creative link the parts hold, and
		// what is known of each, whether or not this run downloaded any.
		// Only for a folder that archives creatives: listing every link of
		// a harvest that does not took more time and memory than the
		// harvest itself (1.2 GB for 270,000 ads).
		if _, err := media.Refresh(r.f, r.store, r.o.Now()); err != nil && crawlErr == nil {
			crawlErr = err
		}
	}
	if err := r.live.write(rec, false); err != nil && crawlErr == nil {
		crawlErr = err
	}
	return Result{Job: r.job, Run: rec, Manifest: r.live.man, Sent: r.client.Sent(), Throttled: r.client.Throttled()}, crawlErr
}

// knownShards is every shard of a plan known so far, and how many tracks
// still wait for their report (their slices are not known yet).
func knownShards(f folder.Folder, store *checkpoint.Store, p *plan, slicePages int, now time.Time) ([]*Shard, int) {
	ceiling := p.job.SliceAds
	if ceiling <= 0 {
		ceiling = DefaultCeiling
	}
	x := sliceCtx{f: f, store: store, pageSize: p.job.MaxCount, ceiling: ceiling, maxPages: slicePages, now: now}
	shards, waiting, err := x.planShards(p)
	if err != nil {
		return append(append([]*Shard(nil), p.reports...), p.fixed...), len(p.tracks)
	}
	n := 0
	for _, trs := range waiting {
		n += len(trs)
	}
	// Two queries can reach the same shard (commercial content, which has
	// no term, asked by two queries over the same country and window): it
	// is one slice, harvested once, and counted once.
	seen := make(map[string]bool, len(shards))
	out := shards[:0:0]
	for _, sh := range shards {
		if !seen[sh.ID] {
			seen[sh.ID] = true
			out = append(out, sh)
		}
	}
	return out, n
}

// addWaiting counts the tracks still waiting for their report as one pending
// shard each of ads.
func addWaiting(counts map[string]manifest.DatasetCounts, waiting int) {
	if waiting == 0 {
		return
	}
	c := counts[job.Ads]
	c.Shards += waiting
	c.Pending += waiting
	counts[job.Ads] = c
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

// firstPart returns the first data file (a part or a raw twin) found in the
// folder, or "" when it holds none.
func firstPart(f folder.Folder) string {
	found := ""
	roots := []string{f.Raw()}
	for _, t := range sink.Tables {
		if !t.Derived {
			roots = append(roots, f.TableDir(t))
		}
	}
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || found != "" {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(d.Name(), folder.PartExt) || strings.HasSuffix(d.Name(), folder.RawExt)) {
				found = path
				return filepath.SkipAll
			}
			return nil
		})
		if found != "" {
			return found
		}
	}
	return ""
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
	for _, p := range append(f.Artifacts(), f.ReparseStage(), f.ReparseOld()) {
		if err := os.RemoveAll(p); err != nil {
			return err
		}
	}
	if err := store.DropStaged(); err != nil {
		return err
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
	shards func() ([]*Shard, int)
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
		shards, waiting := l.shards()
		l.man.Datasets = Count(l.job, shards, states)
		addWaiting(l.man.Datasets, waiting)
		l.man.LastError = LastError(states)
		l.man.Stops = Stops(states)
	}
	l.man.DroppedFields, _ = DroppedFields(l.store)
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

// throttled records a 429 rate_limit_exceeded answer of endpoint: such calls
// may cost quota too, so status shows them.
func (q *quotaCounter) throttled(endpoint string) {
	if q.store != nil {
		_ = q.store.AddThrottled(q.now().UTC().Format("2006-01-02"), endpoint)
	}
}

func (q *quotaCounter) take(endpoint string) error {
	if q.store == nil {
		return nil
	}
	day := q.now().UTC().Format("2006-01-02")
	used, ok, err := q.store.TakeUsage(day, endpoint, q.budget)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %d of %d requests used on %s UTC", ErrBudget, used, q.budget, day)
	}
	return nil
}
