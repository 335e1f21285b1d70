package crawl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/internal/failpoint"
	"adharvest/job"
	"adharvest/sink"
	"adharvest/tiktok"
	"adharvest/tiktok/api"
)

// Crawler runs shards against the API and commits what they fetch through the
// checkpoint (see package checkpoint for the commit protocol).
type Crawler struct {
	Client *tiktok.Client
	Store  *checkpoint.Store
	Folder folder.Folder
	RunID  string
	// Concurrency is the number of shards in flight; they share the client's
	// rate limit.
	Concurrency int
	// FlushPages is how many pages a shard holds pending before it writes a part.
	// Pending pages are durable in the checkpoint, so a larger value costs no
	// re-fetching after a crash: only memory (the decoded pages wait for
	// their part), for fewer and larger files.
	FlushPages int
	// MaxEmptyPages bounds consecutive empty pages that still claim has_more.
	// The API has been seen to answer so forever for advertisers whose ads were
	// all removed, while short or empty pages mid-result are normal.
	MaxEmptyPages int
	// MaxPages caps the pages of one shard, against a chain that never ends
	// (a server that keeps answering has_more with fresh search_ids): no
	// slice of a week holds that many pages of ads.
	MaxPages int
	// SearchIDRetries is how often a rejected search_id is retried, after
	// SearchIDWait, before the shard restarts from its first page.
	SearchIDRetries int
	SearchIDWait    time.Duration
	// MaxRestarts bounds shard restarts before the shard fails.
	MaxRestarts int
	// DetailBudget caps the ads whose details one run fetches (0: no cap).
	DetailBudget int
	// RecheckDays, when above 0, also asks ad/detail again for the ads
	// still active whose last_shown_date is that many days old (see
	// staleActives), within DetailBudget.
	RecheckDays int
	// Events receives progress; nil fields are skipped.
	Events Events
	Logf   func(format string, args ...any)
	Now    func() time.Time

	haltErr atomic.Pointer[error]
	// SlicePages bounds a planned slice's pages (a daily quota); 0 for none.
	SlicePages int

	// lost holds done shards whose files are missing: they run again.
	lost   map[string]bool
	lostMu sync.Mutex
	waitMu sync.Mutex
	plan   *plan
	// details is the detail fan-out that the ads parts this crawl commits
	// feed, while slices are still paging (see Crawler.streamDetails); slots
	// then bound the requests in flight of both.
	details    *detailRun
	slots      chan struct{}
	afterSweep func() error
	fields     *fieldSet
	// onFlushed, when set, receives the files of every part committed.
	onFlushed func(files []checkpoint.File)
}

// Events reports crawl progress to the user interface.
type Events struct {
	// Page runs after each committed page.
	Page func(sh *Shard, items int)
	// ShardDone runs when a shard ends, successfully or not.
	ShardDone func(sh *Shard, st checkpoint.Shard, err error)
	// Phase runs when a phase with its own count of work begins: the ad/detail
	// fan-out, with the number of ads still owed a detail.
	Phase func(name string, total int)
	// Start runs once, before the first request, with the job, its shards and
	// how many of them are already done.
	Start func(j job.Job, shards, done int)
	// More runs when a fan-out that began with Phase learns of n more items
	// (ads parts committed while the detail fan-out streams).
	More func(name string, n int)
}

func (c *Crawler) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.FlushPages <= 0 {
		c.FlushPages = DefaultFlushPages
	}
	if c.MaxEmptyPages <= 0 {
		c.MaxEmptyPages = 25
	}
	if c.MaxPages <= 0 {
		c.MaxPages = 5_000
	}
	if c.SearchIDRetries <= 0 {
		c.SearchIDRetries = 3
	}
	if c.SearchIDWait <= 0 {
		c.SearchIDWait = 2 * time.Second
	}
	if c.MaxRestarts <= 0 {
		c.MaxRestarts = 3
	}
	if c.Logf == nil {
		c.Logf = func(string, ...any) {}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Store != nil {
		c.Store.GroupCommit(c.Concurrency)
	}
	if c.fields == nil {
		fs, err := loadFieldSet(c.Store)
		if err != nil {
			c.Logf("%v; asking for every field again", err)
			fs, _ = loadFieldSet(nil)
		}
		c.fields = fs
	}
}

// DefaultFlushPages is how many pages a shard holds before it writes a part:
// more than a planned slice of DefaultSliceAds holds, so that a slice is one
// part unless it is resumed mid-way.
const DefaultFlushPages = 100

// Requests counts the data requests this crawler's client sent, retries
// and refused calls included, as the server counts them.
func (c *Crawler) Requests() int64 {
	var n int64
	for ep, k := range c.Client.Sent() {
		if ep != tiktok.EndpointToken {
			n += k
		}
	}
	return n
}

// fatal reports whether an error ends the whole crawl as a failure (exit 1):
// credentials the API refuses even with a fresh token fail every shard alike,
// so going on would only spend requests.
func fatal(err error) bool { return errors.Is(err, tiktok.ErrAuth) }

// Run crawls every shard not yet done. It returns nil when all are done, a
// *StopError when it stopped early but resumably, a *FailedError when some
// shards failed for good, or another error when it could not continue.
// Pending pages are flushed before Run returns, even when ctx was cancelled.
func (c *Crawler) Run(ctx context.Context, shards []*Shard) error {
	return c.RunPlan(ctx, &plan{fixed: shards, planning: map[string]bool{}})
}

// ProvisionalDays is how long after a window ends its data may still be
// arriving: a shard finished before its window was this many days old is
// harvested again by the next run (its parts replaced), until a run finishes
// it later than that.
const ProvisionalDays = 3

// Provisional reports whether a finished shard covers days that were too
// recent when it finished.
func Provisional(sh *Shard, st checkpoint.Shard) bool {
	return st.Status == checkpoint.StatusDone && !sh.Window.To.IsZero() &&
		st.UpdatedAt.Before(sh.Window.To.AddDate(0, 0, ProvisionalDays+1))
}

// fanOut runs work on every item of a feed with n workers. An error that
// asStop classes as a stop (quota, budget, full disk, interruption) is passed
// to halt and ends the feeding of new items, but cancels nothing: requests
// already in flight were paid for and their answers are kept, and each worker
// stops at its next request (see Crawler.halted). The stop is returned once
// the running items have ended. Any other error is handed to fail, under a
// lock, and the rest go on; a non-nil error from fail stops everything too.
func fanOut[T any](ctx context.Context, n int, items *feed[T], halt func(error), work func(context.Context, T) error, fail func(T, error) error) error {
	quit := make(chan struct{})
	ch := make(chan T)
	var (
		mu      sync.Mutex
		stopErr error
		wg      sync.WaitGroup
	)
	stop := func(err error) {
		if stopErr == nil {
			stopErr = err
			halt(err)
			close(quit)
		}
	}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				err := work(ctx, it)
				if err == nil {
					continue
				}
				mu.Lock()
				if se := asStop(err, ctx); se != nil {
					stop(se)
				} else if fatal(err) {
					stop(err)
				} else if ferr := fail(it, err); ferr != nil {
					stop(ferr)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for {
		it, ok := items.pop(ctx, quit)
		if !ok {
			break
		}
		select {
		case ch <- it:
		case <-quit:
			break feed
		case <-ctx.Done():
			break feed
		}
	}
	close(ch)
	wg.Wait()
	switch {
	case stopErr != nil:
		return stopErr
	case ctx.Err() != nil:
		return &StopError{Reason: "interrupted", Err: ctx.Err()}
	}
	return nil
}

// feed is an unbounded queue of work that producers add to without waiting
// and one consumer takes from, waiting, until it is closed and empty.
type feed[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	wake   chan struct{}
}

func newFeed[T any]() *feed[T] { return &feed[T]{wake: make(chan struct{}, 1)} }

func (f *feed[T]) push(items ...T) {
	f.mu.Lock()
	f.items = append(f.items, items...)
	f.mu.Unlock()
	f.signal()
}

func (f *feed[T]) close() {
	f.mu.Lock()
	f.closed = true
	f.mu.Unlock()
	f.signal()
}

func (f *feed[T]) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// pop takes the next item; false once the feed is closed and empty, or quit
// or ctx is done.
func (f *feed[T]) pop(ctx context.Context, quit <-chan struct{}) (T, bool) {
	var zero T
	for {
		f.mu.Lock()
		if len(f.items) > 0 {
			it := f.items[0]
			f.items = f.items[1:]
			f.mu.Unlock()
			return it, true
		}
		closed := f.closed
		f.mu.Unlock()
		if closed {
			return zero, false
		}
		select {
		case <-f.wake:
		case <-quit:
			return zero, false
		case <-ctx.Done():
			return zero, false
		}
	}
}

// call sends one data request. When the slices and a streaming detail
// fan-out share the crawl, its slots keep the requests in flight within the
// crawl's concurrency.
func (c *Crawler) call(ctx context.Context, endpoint string, fields []string, body any) (*tiktok.Response, error) {
	if c.slots != nil {
		select {
		case c.slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-c.slots }()
	}
	return c.Client.Call(ctx, endpoint, fields, body)
}

// halt records why the crawl is stopping; halted returns it. Workers check it
// before every request, so a stop lets in-flight requests finish and sends no
// new ones.
func (c *Crawler) halt(err error) { c.haltErr.CompareAndSwap(nil, &err) }

func (c *Crawler) halted() error {
	if p := c.haltErr.Load(); p != nil {
		return *p
	}
	return nil
}

// asStop classifies errors that end the whole crawl resumably.
func asStop(err error, ctx context.Context) *StopError {
	var ae *tiktok.APIError
	switch {
	case errors.Is(err, tiktok.ErrQuota):
		se := &StopError{Reason: "the API's daily quota is spent", Err: err}
		if errors.As(err, &ae) {
			se.ResetAt = ae.ResetAt
		}
		if se.ResetAt.IsZero() {
			se.ResetAt = tiktok.NextUTCMidnight(time.Now())
		}
		return se
	case errors.Is(err, ErrBudget):
		return &StopError{Reason: "the --daily-quota budget is spent", ResetAt: tiktok.NextUTCMidnight(time.Now()), Err: err}
	case errors.Is(err, tiktok.ErrRetryLater):
		// A wait longer than a request may take is not waited out: stop now,
		// resumably, and say when the server asked to be asked again.
		se := &StopError{Reason: "the API asked to wait longer than a request may (" + err.Error() + ")", Err: err}
		var rl *tiktok.RetryLaterError
		if errors.As(err, &rl) {
			se.Reason = fmt.Sprintf("the API asked to wait %s before the next %s request (Retry-After), longer than a request may wait", rl.Wait.Round(time.Second), rl.Endpoint)
			se.ResetAt = rl.Until
		}
		return se
	case diskFull(err):
		return &StopError{Reason: "the disk is full (" + err.Error() + "); free some space and run the same command again", Err: err}
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return &StopError{Reason: "interrupted", Err: err}
	}
	return nil
}

// runShard pages one shard to its end, committing each page. On return the
// shard's pending pages are flushed (unless the checkpoint itself failed).
func (c *Crawler) runShard(ctx context.Context, sh *Shard) (checkpoint.Shard, error) {
	st, ok, err := c.Store.Shard(sh.ID)
	if err != nil {
		return st, err
	}
	switch {
	case ok && st.RequestHash != sh.reqHash:
		// The filters behind this id changed: its search_id chain and parts are void.
		if err := c.restart(sh, &st, "filters changed"); err != nil {
			return st, err
		}
	case ok && Provisional(sh, st):
		if err := c.restart(sh, &st, "recent window harvested again"); err != nil {
			return st, err
		}
	case !ok:
		st = checkpoint.Shard{ID: sh.ID, Dataset: sh.Dataset, RequestHash: sh.reqHash}
	}
	c.lostMu.Lock()
	lost := c.lost[sh.ID]
	c.lostMu.Unlock()
	if ok && lost && st.Status == checkpoint.StatusDone {
		if err := c.restart(sh, &st, "its files were missing"); err != nil {
			return st, err
		}
	}
	st.Planned, st.Exact = sh.Planned, sh.exact
	st.Expected = nil
	if sh.Planned == "report" || sh.Planned == "half" {
		e := sh.Expected
		st.Expected = &e
	}
	if err := loadExclude(c.Store, sh); err != nil {
		return st, err
	}
	var resumedFrom time.Time
	if ok && st.Pages > 0 && st.HasMore {
		resumedFrom = st.UpdatedAt // when its last page came in
	}
	st.Status, st.Err, st.LogID = checkpoint.StatusRunning, "", ""
	if err := c.Store.SaveShard(st); err != nil {
		return st, err
	}
	buf, err := c.loadPending(sh)
	if err != nil {
		return st, err
	}
	defer buf.reset()
	crawlErr := c.pageShard(ctx, sh, &st, buf, resumedFrom)
	var ne *narrowError
	if errors.As(crawlErr, &ne) {
		// The slice ends here, at the oldest day it reached; the days up to
		// that day (included: it may have been reached in part) are a new
		// slice that the scheduler runs next.
		child := sh.narrowed(ne.day)
		st.Narrowed, st.Split = ne.day.Format("2006-01-02"), []string{child.ID}
		st.Reason = "search_id expired mid-slice: the days up to " + st.Narrowed + " are sliced anew"
		st.HasMore = false
		if st.Expected != nil && sh.counts != nil {
			e := expectedIn(sh.counts, ne.day.AddDate(0, 0, 1), sh.Window.To)
			st.Expected = &e
		}
		crawlErr = nil
	}
	done := crawlErr == nil
	if err := c.flush(sh, &st, buf, done, crawlErr); err != nil {
		return st, errors.Join(crawlErr, err)
	}
	return st, crawlErr
}

// loadPending reads back the pages a shard committed but did not write as a
// part before its last run ended, into a new buffer.
func (c *Crawler) loadPending(sh *Shard) (*partBuf, error) {
	buf := &partBuf{}
	pending, err := c.Store.Pending(sh.ID)
	if err != nil || len(pending) == 0 {
		return buf, err
	}
	dp, err := decodeStored(sh.ds, pending)
	if err != nil {
		return nil, fmt.Errorf("%s: pending pages: %w", sh.ID, err)
	}
	for i, p := range pending {
		if p.Frame == nil { // written before pending pages were frames
			p.Frame = c.Store.Frame(p)
		}
		buf.add(p, dp[i].data, 0)
	}
	return buf, nil
}

// pageShard fetches pages until the shard is complete.
func (c *Crawler) pageShard(ctx context.Context, sh *Shard, st *checkpoint.Shard, buf *partBuf, resumedFrom time.Time) error {
	seq := 0
	if n := len(buf.pages); n > 0 {
		seq = buf.pages[n-1].Seq + 1
	}
	seen := map[string]bool{}
	idRetries := 0
	for {
		if st.Pages > 0 && (!sh.ds.paged || !st.HasMore) {
			return nil
		}
		if st.Pages >= c.MaxPages {
			st.Reason, st.Stop = fmt.Sprintf("stopped at the cap of %d pages", c.MaxPages), "capped"
			warn(st, fmt.Sprintf("the search_id chain was cut at %d pages, more than any slice holds; the server kept answering has_more", c.MaxPages))
			c.Logf("%s: %s", sh.ID, st.Reason)
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := c.halted(); err != nil {
			return err
		}
		body := sh.request(st.NextSearchID)
		reqJSON, _ := json.Marshal(body)
		resp, err := c.callFields(ctx, sh.ds.endpoint, body)
		if err != nil {
			if errors.Is(err, tiktok.ErrSearchIDExpired) && st.NextSearchID != "" {
				// A chain begun on an earlier UTC day died at the quota's
				// reset, as search_ids are seen to: retrying cannot help.
				stale := !resumedFrom.IsZero() && resumedFrom.UTC().Format("2006-01-02") != c.Now().UTC().Format("2006-01-02")
				if !stale && idRetries < c.SearchIDRetries {
					idRetries++
					c.Logf("%s: search_id rejected, retry %d of %d: %v", sh.ID, idRetries, c.SearchIDRetries, err)
					if err := sleep(ctx, c.SearchIDWait); err != nil {
						return err
					}
					continue
				}
				// The pages fetched stay: when they came newest first, the
				// slice ends at the oldest day they reached and the days up
				// to it become a new slice; otherwise it starts again.
				if sh.ds == adsDataset && sh.track != nil {
					if d, ok := c.reached(sh); ok && d.After(sh.Window.From) {
						c.Logf("%s: search_id expired at page %d; keeping the pages fetched and slicing the days up to %s anew", sh.ID, st.Pages, d.Format("2006-01-02"))
						return &narrowError{day: d}
					}
				}
				if st.Restarts >= c.MaxRestarts {
					return fmt.Errorf("%s page %d: search_id rejected after %d restarts: %w", sh.ID, st.Pages, st.Restarts, err)
				}
				c.Logf("%s: search_id expired at page %d; restarting the shard from its first page", sh.ID, st.Pages)
				if err := c.restart(sh, st, "search_id expired"); err != nil {
					return err
				}
				buf.reset()
				idRetries = 0
				seq = 0
				clear(seen)
				continue
			}
			st.LogID = tiktok.LogIDOf(err)
			return fmt.Errorf("%s page %d: %w", sh.ID, st.Pages, err)
		}
		idRetries = 0
		st.Requests += resp.Attempts
		data, info, err := sh.ds.decode(resp.Data)
		if err != nil {
			return fmt.Errorf("%s page %d: decode (log_id %s): %w", sh.ID, st.Pages, resp.LogID, err)
		}
		// Rejected items took their place on the page: they count as items
		// for the empty-page guard, and are kept in the rejects table.
		items, pg := info.items+info.rejects, info.page
		st.Rejects += info.rejects
		if sh.ds.paged {
			if !pg.HasMore.Set {
				return fmt.Errorf("%s page %d: response has no has_more (log_id %s); refusing to guess that the result ended", sh.ID, st.Pages, resp.LogID)
			}
			if pg.HasMore.V {
				if pg.SearchID == "" {
					return fmt.Errorf("%s page %d: has_more without a search_id (log_id %s)", sh.ID, st.Pages, resp.LogID)
				}
				if seen[pg.SearchID] || pg.SearchID == st.NextSearchID {
					return fmt.Errorf("%s page %d: search_id %.24s… repeated; the chain cycles (log_id %s)", sh.ID, st.Pages, pg.SearchID, resp.LogID)
				}
				seen[pg.SearchID] = true
			}
		}
		if sh.maxCount > 0 && items > sh.maxCount {
			warn(st, fmt.Sprintf("a page held %d items where max_count is %d (log_id %s)", items, sh.maxCount, resp.LogID))
		}
		st.Pages++
		st.NextSearchID, st.HasMore = pg.SearchID, pg.HasMore.V
		if items == 0 && pg.HasMore.V {
			st.EmptyRun++
		} else {
			st.EmptyRun = 0
		}
		if st.EmptyRun >= c.MaxEmptyPages {
			st.HasMore = false
			st.Reason, st.Stop = fmt.Sprintf("stopped after %d consecutive empty pages that still claimed has_more", st.EmptyRun), "empty_pages"
			c.Logf("%s: %s", sh.ID, st.Reason)
		}
		page := checkpoint.Page{Seq: seq, FetchedAt: c.Now().UTC(), RunID: c.RunID, Endpoint: sh.ds.endpoint, Request: reqJSON, LogID: resp.LogID, Body: resp.Body}
		page.Frame = c.Store.Frame(page)
		_ = failpoint.Hit(failpoint.PageFetched)
		if err := c.Store.CommitPage(*st, page); err != nil {
			return fmt.Errorf("%s page %d: checkpoint: %w", sh.ID, st.Pages, err)
		}
		_ = failpoint.Hit(failpoint.PageCommit)
		seq++
		buf.add(page, data, items)
		if c.details != nil && sh.ds == adsDataset {
			// The page is durable: its ads can be detailed now rather than
			// when their part is written (a detail fetched for an ad whose
			// part a crash never wrote finds the ad again when the resumed
			// shard writes it).
			c.details.more(pageAds(data))
		}
		if c.Events.Page != nil {
			c.Events.Page(sh, items)
		}
		if len(buf.pages) >= c.FlushPages {
			if err := c.flush(sh, st, buf, false, nil); err != nil {
				return err
			}
		}
	}
}

// flush writes the shard's buffered pages as its next part, then commits the
// new state, which drops those pages from the checkpoint. Data first, state
// second. The buffer is empty when flush returns without error.
func (c *Crawler) flush(sh *Shard, st *checkpoint.Shard, buf *partBuf, done bool, crawlErr error) error {
	var (
		w   written
		err error
	)
	pages, seqs := buf.pages, buf.seqs()
	pw := &partWriter{f: c.Folder, sh: sh, n: st.Parts}
	if len(pages) > 0 {
		if w, err = sh.ds.write(pw, sh, pages); err != nil {
			return fmt.Errorf("%s: write part %d: %w", sh.ID, st.Parts, err)
		}
		raw := sh.rawPath(c.Folder, st.Parts)
		lines := buf.rawPart()
		sum, err := sink.WriteFileAtomicSum(raw, func(w io.Writer) error {
			_, err := w.Write(lines)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s: write raw part %d: %w", sh.ID, st.Parts, err)
		}
		pw.add(raw, sh.ds.table.Name, true, int64(len(pages)), sum)
		st.Parts++
		st.Rows += w.rows
		if !done {
			st.Overlap += w.overlap
		}
	}
	switch {
	case done:
		st.Status = checkpoint.StatusDone
		var ids map[int64]bool
		if sh.ds == adsDataset {
			if ids, err = c.Store.ShardAdIDs(sh.ID); err != nil {
				return err
			}
			for _, a := range w.ads {
				ids[a.ID] = true
			}
		}
		st.Harvested = sliceHarvested(sh.ds, st.Rows, ids, st.Overlap+w.overlap)
	case crawlErr != nil && asStop(crawlErr, context.Background()) == nil:
		st.Status, st.Err = checkpoint.StatusFailed, c.Client.Scrub(crawlErr.Error())
		if st.LogID == "" {
			st.LogID = tiktok.LogIDOf(crawlErr)
		}
	case crawlErr != nil:
		st.Status = checkpoint.StatusPending
	}
	if err := failpoint.Hit(failpoint.FlushCommit); err != nil {
		return err
	}
	if err := c.Store.CommitFlush(*st, checkpoint.Flushed{Files: pw.files, Ads: w.ads, Seqs: seqs}); err != nil {
		return fmt.Errorf("%s: checkpoint after part %d: %w", sh.ID, st.Parts-1, err)
	}
	buf.reset()
	if c.details != nil && len(w.ads) > 0 {
		c.details.more(w.ads)
	}
	if c.onFlushed != nil && len(pw.files) > 0 {
		c.onFlushed(pw.files)
	}
	return nil
}

// sliceHarvested is what a finished slice returned, distinct, for its
// coverage: its rows; for ads, the distinct ads of all its parts (an ad can
// come back on two pages of a chain) and those it returned that its
// predecessor holds (overlap).
func sliceHarvested(ds *dataset, rows int64, ads map[int64]bool, overlap int64) int64 {
	if ds != adsDataset {
		return rows
	}
	return int64(len(ads)) + overlap
}

// restart voids a shard's progress: state first (so no state names the old
// parts), then its files. A crash in between leaves orphans that Sweep removes.
func (c *Crawler) restart(sh *Shard, st *checkpoint.Shard, why string) error {
	// The fetches the parts hold stay observations of their ads.
	if err := c.keepObservations(sh, *st); err != nil {
		return err
	}
	if err := failpoint.Hit(failpoint.ObservationsKept); err != nil {
		return err
	}
	old := st.Parts
	*st = checkpoint.Shard{ID: sh.ID, Dataset: sh.Dataset, RequestHash: sh.reqHash, Status: checkpoint.StatusRunning,
		Restarts: st.Restarts + 1, Requests: st.Requests, Reason: "restarted: " + why}
	if err := c.Store.ResetShard(*st); err != nil {
		return err
	}
	for n := 0; n < old; n++ {
		pw := &partWriter{f: c.Folder, sh: sh, n: n}
		paths := []string{sh.rawPath(c.Folder, n)}
		for _, t := range sink.Tables {
			if t.OwnedBy(sh.ds.table.Name) {
				paths = append(paths, pw.path(t))
			}
		}
		for _, p := range paths {
			if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
				return err
			}
		}
	}
	return nil
}

// Sweep removes what an interrupted run may have left: temporary files, and
// part files that no committed shard state names (a part renamed into place
// just before a crash, or parts of a shard that was restarted). Files that do
// not follow adharvest's naming are left alone.
func Sweep(f folder.Folder, store *checkpoint.Store, shards []*Shard) error {
	// A kill during an atomic write of a file the harvest itself owns (the
	// manifest, the coverage table) leaves its temporary file there; other
	// temporary files at the top (a report being written) are not its own.
	for dir, prefix := range map[string]string{
		f.Dir:                     sink.TempPrefix + filepath.Base(f.Manifest()),
		f.TableDir(sink.Coverage): sink.TempPrefix,
	} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !e.IsDir() && strings.HasPrefix(e.Name(), prefix) {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !os.IsNotExist(err) {
					return err
				}
			}
		}
	}
	tables := map[string]sink.Table{}
	for _, sh := range shards {
		tables[sh.ds.table.Name] = sh.ds.table
	}
	for _, t := range sink.Tables {
		tables[t.Name] = t
	}
	for _, t := range tables {
		roots := []string{f.TableDir(t), f.RawTableDir(t)}
		if t.Owner == "*" {
			roots = roots[:1] // a shared table has no raw twins of its own
		}
		for _, root := range roots {
			err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
				if err != nil {
					if os.IsNotExist(err) {
						return filepath.SkipDir
					}
					return err
				}
				if d.IsDir() {
					return nil
				}
				name := d.Name()
				if strings.HasPrefix(name, sink.TempPrefix) {
					return os.Remove(path)
				}
				id, n, ok := sweepShard(t, path, name)
				if !ok {
					return nil
				}
				st, known, err := store.Shard(id)
				if err != nil {
					return err
				}
				// A part of a shard this checkpoint knows, beyond the parts
				// it committed, was written by one of its runs and never
				// named: remove it. A file of a shard it does not know is
				// not its to remove (a lost checkpoint must never cost the
				// data; check reports such files).
				if known && n >= st.Parts {
					return os.Remove(path)
				}
				return nil
			})
			if err != nil && !os.IsNotExist(err) {
				return fmt.Errorf("sweep %s: %w", root, err)
			}
		}
	}
	return nil
}

// warn records a warning on a shard, once.
func warn(st *checkpoint.Shard, msg string) {
	for _, w := range st.Warnings {
		if w == msg || (len(st.Warnings) >= 10) {
			return
		}
	}
	st.Warnings = append(st.Warnings, msg)
}

// narrowError ends a slice whose search_id died overnight at the oldest
// day its pages reached.
type narrowError struct{ day time.Time }

func (e *narrowError) Error() string { return "slice narrowed at " + e.day.Format("2006-01-02") }

// reached returns the oldest first-shown day among the ads a slice has
// fetched so far, when its pages came newest first (as ad/query pages the
// fake and, so far as anyone has seen, the live service): then every day
// after it is complete. ok is false when the order does not hold, or nothing
// was fetched.
func (c *Crawler) reached(sh *Shard) (time.Time, bool) {
	parts, err := c.Store.ShardAdParts(sh.ID)
	if err != nil {
		return time.Time{}, false
	}
	pending, err := c.Store.Pending(sh.ID)
	if err != nil {
		return time.Time{}, false
	}
	for _, p := range pending {
		env, err := api.DecodeEnvelope(p.Body)
		if err != nil {
			continue
		}
		d, err := api.DecodeAdQuery(env.Data)
		if err != nil {
			continue
		}
		var part []checkpoint.AdSeen
		for _, a := range d.Ads {
			if a.Ad.ID.Valid {
				part = append(part, adSeen(a.Ad.ID.V, sink.DayPtr(a.Ad.FirstShownDate.Ptr()), nil))
			}
		}
		parts = append(parts, part)
	}
	oldest, prevMin := int32(0), int32(0)
	first := true
	for _, part := range parts {
		lo, hi, any := int32(0), int32(0), false
		for _, a := range part {
			if a.First == checkpoint.NoDay {
				// Without a date it proves nothing about the order; a
				// successor that fetches it again skips it (exclude).
				continue
			}
			if !any || a.First < lo {
				lo = a.First
			}
			if !any || a.First > hi {
				hi = a.First
			}
			any = true
		}
		if !any {
			continue
		}
		if !first && hi > prevMin {
			return time.Time{}, false // not newest first
		}
		first, prevMin, oldest = false, lo, lo
	}
	if first {
		return time.Time{}, false
	}
	return time.Unix(int64(oldest)*86400, 0).UTC(), true
}

// loadExclude gives a slice that took over from another the ads its
// predecessor holds, which it does not write again.
func loadExclude(store *checkpoint.Store, sh *Shard) error {
	if sh.after == "" || sh.exclude != nil {
		return nil
	}
	ids, err := store.ShardAdIDs(sh.after)
	sh.exclude = ids
	return err
}

// expectedIn sums a report's daily counts over [from, to].
func expectedIn(counts map[string]int64, from, to time.Time) int64 {
	var n int64
	for _, d := range daysOf(from, to) {
		n += counts[d.Format("20060102")]
	}
	return n
}

// MissingFiles lists the registered files of a shard that are not on disk,
// relative to the folder.
func MissingFiles(f folder.Folder, store *checkpoint.Store, shard string) ([]string, error) {
	files, err := store.ShardFiles(shard)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, rec := range files {
		if _, err := os.Stat(f.Abs(rec.Path)); errors.Is(err, fs.ErrNotExist) {
			out = append(out, rec.Path)
		}
	}
	return out, nil
}

// sweepShard names the shard and part number of a part file of table t.
func sweepShard(t sink.Table, path, name string) (id string, n int, ok bool) {
	if t.Owner == "*" {
		owner, partition, stem, n, ok := folder.ParseSharedPartName(name)
		if !ok {
			return "", 0, false
		}
		ot, found := sink.Lookup(owner)
		if !found {
			return "", 0, false
		}
		return shardID(ot, partition, stem), n, true
	}
	stem, n, ok := folder.ParsePartName(name)
	if !ok {
		return "", 0, false
	}
	return shardID(t, folder.PartitionOf(t, path), stem), n, true
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
