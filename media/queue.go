package media

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/sink"
)

// Options configure a media run. Zero fields take the defaults named.
type Options struct {
	// Budget is the body bytes this run may download, kept or not; 0 is
	// no budget. It is never exceeded (see the package documentation).
	Budget int64
	// MaxFileSize is the per-file cap (DefaultMaxFileSize): a larger object
	// is too_large, and is tried again only under a larger cap.
	MaxFileSize int64
	// Concurrency is the number of downloads at once (DefaultConcurrency).
	Concurrency int
	// RPS caps requests per second to media hosts, all hosts together; 0 is
	// no cap. It is separate from the API's rate.
	RPS float64
	// Avatars adds advertiser avatars (ad_details.avatar_url). A folder
	// remembers it: later runs include them too.
	Avatars bool
	// Offline fetches from loopback hosts only (the demo): any other link
	// fails without a request and is tried again by the next run.
	Offline bool
	// Retries is the tries after the first of a network error, 408, 429 or
	// 5xx within one run (DefaultRetries; negative for none), RetryBase the
	// first backoff (DefaultRetryBase), doubled each time.
	Retries   int
	RetryBase time.Duration
	// Stall abandons a download that receives nothing for so long
	// (DefaultStall), FileTimeout one that takes longer in all
	// (DefaultFileTimeout); either is tried again.
	Stall       time.Duration
	FileTimeout time.Duration
	// UserAgent is sent to media hosts ("adharvest").
	UserAgent string
	// RunID names the run in the states and the media table; a harvest
	// passes its own. "" is a new one, in the crawl's form.
	RunID string
	Now   func() time.Time
	// Logf receives notices (retries); Progress is called after every link
	// tried. Either may be nil. Neither may call back into the Queue.
	Logf     func(format string, args ...any)
	Progress func(Progress)
}

func (o *Options) defaults() {
	if o.MaxFileSize <= 0 {
		o.MaxFileSize = DefaultMaxFileSize
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	switch {
	case o.Retries == 0:
		o.Retries = DefaultRetries
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.RetryBase <= 0 {
		o.RetryBase = DefaultRetryBase
	}
	if o.Stall <= 0 {
		o.Stall = DefaultStall
	}
	if o.FileTimeout <= 0 {
		o.FileTimeout = DefaultFileTimeout
	}
	if o.UserAgent == "" {
		o.UserAgent = "adharvest"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RunID == "" {
		o.RunID = o.Now().UTC().Format("20060102T150405Z") + "-" + randomHex()[:6]
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
}

// Progress is a running media run's count: links tried of those queued,
// files stored and body bytes downloaded this run.
type Progress struct {
	Done, Queued int
	Stored       int
	Bytes        int64
}

// Result is how a media run ended: the folder's Summary as the tables now
// say, and this run's own figures.
type Result struct {
	Summary
	// Tried counts the links this run settled (with or without a request),
	// Stored the files it wrote, Downloaded the body bytes it read.
	Tried, Stored int
	Downloaded    int64
}

// metaAvatars records in the checkpoint that the folder's media include
// advertiser avatars.
const metaAvatars = "media_avatars"

// Queue downloads the media of a folder's parts in the background. Start it,
// AddPart each part as it is committed, then Finish. Its methods are safe for
// concurrent use. It shares nothing with the API client.
type Queue struct {
	f     folder.Folder
	store *checkpoint.Store
	o     Options
	fetch *Fetcher
	ctx   context.Context

	mu        sync.Mutex
	cond      *sync.Cond
	parts     map[string][]sink.MediaLinkRow // by part path
	states    map[string]checkpoint.Media    // by URL
	present   map[string]bool                // stored paths on disk
	okByKey   map[string]checkpoint.Media    // an ok state per object
	objects   map[string]*object             // by object key, this run
	ready     []*object
	scheduled map[string]bool // URLs queued this run (each at most once)
	closing   bool
	stop      error // the first stop or failure; no more work once set
	queued    int
	done      int
	stored    int
	wg        sync.WaitGroup
	finished  chan struct{}
	once      sync.Once
	result    Result
	err       error
}

// object is the links to one object (they differ only in their
// signature), tried one at a time.
type object struct {
	key     string
	urls    []pending
	inReady bool
	running bool
	// outcome is the object's ok or removed state once a link settled it;
	// the object's other links take it without a request.
	outcome *checkpoint.Media
}

type pending struct {
	url, kind string
	exp       time.Time // zero without x-expires
}

// Start opens a queue on the folder f, whose lock the caller holds and whose
// checkpoint store is open (Run does both; a harvest has them already). It
// empties the folder of downloads a dead process left, loads the media
// states, starts the workers and queues every link of the parts the
// checkpoint names. Downloads run until Finish, or until ctx is cancelled or
// the budget is spent.
func Start(ctx context.Context, f folder.Folder, store *checkpoint.Store, o Options) (*Queue, error) {
	o.defaults()
	if err := sweepTemp(f); err != nil {
		return nil, err
	}
	if o.Avatars {
		if err := store.SetMeta(metaAvatars, []byte("1")); err != nil {
			return nil, err
		}
	} else if v, err := store.Meta(metaAvatars); err != nil {
		return nil, err
	} else {
		o.Avatars = len(v) > 0
	}
	q := &Queue{
		f: f, store: store, o: o, fetch: NewFetcher(f, o), ctx: ctx,
		parts: map[string][]sink.MediaLinkRow{}, states: map[string]checkpoint.Media{},
		present: map[string]bool{}, okByKey: map[string]checkpoint.Media{}, objects: map[string]*object{},
		scheduled: map[string]bool{}, finished: make(chan struct{}),
	}
	q.cond = sync.NewCond(&q.mu)
	if err := q.load(); err != nil {
		return nil, err
	}
	for i := 0; i < o.Concurrency; i++ {
		q.wg.Add(1)
		go q.work()
	}
	go func() {
		select {
		case <-ctx.Done():
			q.halt(ctx.Err())
		case <-q.finished:
		}
	}()
	parts, err := committedParts(f, store)
	if err != nil {
		q.halt(&fatalError{err: err})
		q.Finish()
		return nil, err
	}
	for _, p := range parts {
		// A part that cannot be read (check names it) costs its own
		// links only.
		if err := q.addPart(p); err != nil {
			o.Logf("media: %v; its links are skipped", err)
		}
	}
	return q, nil
}

// load reads every media state, and which stored files are on disk.
func (q *Queue) load() error {
	return q.store.EachMedia(func(m checkpoint.Media) error {
		q.states[m.URL] = m
		if m.Status != checkpoint.MediaOK {
			return nil
		}
		on, seen := q.present[m.Path]
		if !seen {
			_, err := os.Stat(q.f.Abs(m.Path))
			on = err == nil
			q.present[m.Path] = on
		}
		if on {
			q.okByKey[objectKey(m.URL)] = m
		}
		return nil
	})
}

// AddPart queues the links of a committed part file of table (by its name;
// a table that links to no creative is ignored). Call it once the flush that
// wrote the part is committed; adding a path again replaces its links. It
// reads the file before it returns; the downloads run in the background.
// After Finish it does nothing and returns an error.
func (q *Queue) AddPart(table, path string) error {
	t, ok := sink.Lookup(table)
	if !ok || !IsSource(table) {
		return nil
	}
	return q.addPart(part{table: t, path: path, country: folder.PartitionOf(t, path)})
}

func (q *Queue) addPart(p part) error {
	q.mu.Lock()
	closing := q.closing
	q.mu.Unlock()
	if closing {
		return errFinished
	}
	links, err := PartLinks(p.table, p.path, p.country, q.o.Avatars)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // replaced by a restart of its slice since
		}
		return fmt.Errorf("media links of %s: %w", q.f.Rel(p.path), err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closing {
		return errFinished
	}
	q.parts[p.path] = links
	for _, l := range links {
		if q.scheduled[l.URL] || !q.owed(l.URL) {
			continue
		}
		q.scheduled[l.URL] = true
		key := objectKey(l.URL)
		obj := q.objects[key]
		if obj == nil {
			obj = &object{key: key}
			q.objects[key] = obj
		}
		exp, _ := expiresAt(l.URL)
		obj.urls = append(obj.urls, pending{url: l.URL, kind: l.Kind, exp: exp})
		q.queued++
		if !obj.inReady && !obj.running {
			obj.inReady = true
			q.ready = append(q.ready, obj)
			q.cond.Signal()
		}
	}
	return nil
}

// owed reports whether url needs a try: never tried, failed, stored but the
// file is gone, or too large for a smaller cap than this run's. Call with
// q.mu held.
func (q *Queue) owed(url string) bool {
	s, ok := q.states[url]
	if !ok {
		return true
	}
	switch s.Status {
	case checkpoint.MediaOK:
		return !q.present[s.Path]
	case checkpoint.MediaExpired, checkpoint.MediaRemoved:
		return false
	case checkpoint.MediaTooLarge:
		return q.o.MaxFileSize > s.Cap
	}
	return true
}

// halt stops the queue with err (the first one wins): nothing more is
// started; downloads in flight end as they do (a stop by the context aborts
// them, a local failure too).
func (q *Queue) halt(err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stop == nil {
		q.stop = err
	}
	q.cond.Broadcast()
}

func (q *Queue) next() *object {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.stop != nil {
			return nil
		}
		if len(q.ready) > 0 {
			obj := q.ready[0]
			q.ready[0] = nil
			q.ready = q.ready[1:]
			obj.inReady, obj.running = false, true
			return obj
		}
		if q.closing {
			return nil
		}
		q.cond.Wait()
	}
}

func (q *Queue) work() {
	defer q.wg.Done()
	for obj := q.next(); obj != nil; obj = q.next() {
		q.process(obj)
	}
}

// process settles an object's links one at a time, freshest signature
// first, until none is left.
func (q *Queue) process(obj *object) {
	for {
		q.mu.Lock()
		if q.stop != nil || len(obj.urls) == 0 {
			obj.running = false
			q.mu.Unlock()
			return
		}
		sort.SliceStable(obj.urls, func(i, j int) bool { return fresher(obj.urls[i].exp, obj.urls[j].exp) })
		p := obj.urls[0]
		obj.urls = obj.urls[1:]
		prev := q.states[p.url]
		outcome := obj.outcome
		if ok, found := q.okByKey[obj.key]; outcome == nil && found {
			outcome = &ok
		}
		q.mu.Unlock()

		var m checkpoint.Media
		fetched := outcome == nil
		if fetched {
			var err error
			if m, err = q.fetch.Fetch(q.ctx, p.url); err != nil {
				q.halt(err)
				q.mu.Lock()
				obj.running = false
				q.mu.Unlock()
				return
			}
		} else {
			m = sameObject(p.url, *outcome, q.o.Now())
		}
		m.Kind, m.Attempts, m.RunID = p.kind, prev.Attempts+1, q.o.RunID
		if err := q.store.PutMedia(m); err != nil {
			q.halt(&fatalError{err: fmt.Errorf("record media state: %w", err)})
			q.mu.Lock()
			obj.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Lock()
		q.states[p.url] = m
		q.done++
		switch m.Status {
		case checkpoint.MediaOK:
			q.present[m.Path] = true
			q.okByKey[obj.key] = m
			obj.outcome = &m
			if fetched {
				q.stored++
			}
		case checkpoint.MediaRemoved:
			if fetched {
				obj.outcome = &m
			}
		}
		pr := Progress{Done: q.done, Queued: q.queued, Stored: q.stored, Bytes: q.fetch.Downloaded()}
		q.mu.Unlock()
		if q.o.Progress != nil {
			q.o.Progress(pr)
		}
	}
}

// fresher orders links by x-expires, latest first; a link without one (it
// does not expire) comes before all.
func fresher(a, b time.Time) bool {
	switch {
	case a.IsZero():
		return !b.IsZero()
	case b.IsZero():
		return false
	}
	return a.After(b)
}

// sameObject is url's state taken from another link to the same object,
// without a request.
func sameObject(url string, from checkpoint.Media, now time.Time) checkpoint.Media {
	m := from
	m.URL, m.HTTPStatus, m.Err = url, 0, ""
	if m.SourceURL == "" {
		m.SourceURL = from.URL
	}
	if m.Status == checkpoint.MediaRemoved {
		m.Err = "the same object was removed (" + from.Err + ")"
		m.FetchedAt = now.UTC()
	}
	return m
}

// Progress returns the run's counts so far.
func (q *Queue) Progress() Progress {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Progress{Done: q.done, Queued: q.queued, Stored: q.stored, Bytes: q.fetch.Downloaded()}
}

// Finish takes no more parts, waits for the queued links to be settled (or
// for the stop: the context, the budget), rewrites the tables media and
// media_links from the checkpoint and the parts, and returns the folder's
// summary and the run's figures. The error is a *StopError for a resumable
// stop, or the failure that ended the run. Later calls return the same.
func (q *Queue) Finish() (Result, error) {
	q.once.Do(func() { q.result, q.err = q.finish() })
	return q.result, q.err
}

func (q *Queue) finish() (Result, error) {
	q.mu.Lock()
	q.closing = true
	q.cond.Broadcast()
	q.mu.Unlock()
	q.wg.Wait()
	close(q.finished)
	q.fetch.Close()

	q.mu.Lock()
	stop := q.stop
	res := Result{Tried: q.done, Stored: q.stored, Downloaded: q.fetch.Downloaded()}
	links := q.linkRows()
	now := q.o.Now()
	rows := mediaRows(links, q.states, q.present, now)
	res.Summary = summarize(links, q.states, q.present, now)
	q.mu.Unlock()

	var fe *fatalError
	if stop != nil && errors.As(stop, &fe) {
		return res, fe.err // the tables stay as the last good run wrote them
	}
	if err := writeTables(q.f, rows, links); err != nil {
		return res, err
	}
	switch {
	case stop == nil:
		return res, nil
	case errors.Is(stop, ErrBudget):
		return res, &StopError{Reason: fmt.Sprintf("the media budget of %s is spent (%s downloaded; %d link(s) still owed)",
			FormatBytes(q.o.Budget), FormatBytes(res.Downloaded), res.Owed()), Err: ErrBudget}
	case errors.Is(stop, context.Canceled), errors.Is(stop, context.DeadlineExceeded):
		return res, &StopError{Reason: fmt.Sprintf("media downloads interrupted (%d link(s) still owed)", res.Owed()), Err: stop}
	}
	return res, stop
}

// linkRows is every link of the parts still on disk, each once, sorted.
// Call with q.mu held.
func (q *Queue) linkRows() []sink.MediaLinkRow {
	paths := make([]string, 0, len(q.parts))
	for p := range q.parts {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var all []sink.MediaLinkRow
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			continue // its slice was harvested again under another part
		}
		all = append(all, q.parts[p]...)
	}
	return dedupLinks(all)
}

// mediaRows is one row per linked URL with an outcome (see outcome), sorted
// by URL.
func mediaRows(links []sink.MediaLinkRow, states map[string]checkpoint.Media, present map[string]bool, now time.Time) []sink.MediaRow {
	kinds := map[string]string{}
	var urls []string
	for _, l := range links {
		if _, ok := kinds[l.URL]; !ok {
			kinds[l.URL] = l.Kind
			urls = append(urls, l.URL)
		}
	}
	sort.Strings(urls)
	rows := make([]sink.MediaRow, 0, len(urls))
	for _, u := range urls {
		m, ok := outcome(u, states, present, now)
		if !ok {
			continue
		}
		kind := m.Kind
		if kind == "" {
			kind = kinds[u]
		}
		rows = append(rows, mediaRow(m, kind))
	}
	return rows
}

// Run archives the media of the output folder dir, as `adharvest media`
// does: it takes the folder's lock (a harvest holding it is an error naming
// its pid, a *checkpoint.LockedError), opens the checkpoint, queues every
// link of every part the checkpoint names, downloads, and rewrites the media
// tables. It returns as Finish does, or an error wrapping ErrNoHarvest for a
// folder that holds no harvest.
func Run(ctx context.Context, dir string, o Options) (Result, error) {
	f := folder.New(dir)
	if _, err := os.Stat(f.Checkpoint()); err != nil {
		return Result{}, fmt.Errorf("%s: %w (no %s)", dir, ErrNoHarvest, folder.CheckpointName())
	}
	lock, err := checkpoint.Acquire(f.Lock(), dir)
	if err != nil {
		return Result{}, err
	}
	defer lock.Release()
	store, err := checkpoint.Open(f.Checkpoint())
	if err != nil {
		return Result{}, err
	}
	defer store.Close()
	// "job" is the key under which package crawl stores the folder's job.
	if j, err := store.Meta("job"); err != nil || j == nil {
		return Result{}, fmt.Errorf("%s: %w (its checkpoint names no job)", dir, ErrNoHarvest)
	}
	q, err := Start(ctx, f, store, o)
	if err != nil {
		return Result{}, err
	}
	return q.Finish()
}
