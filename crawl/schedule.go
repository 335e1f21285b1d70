package crawl

import (
	"context"
	"errors"
	"sync"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/tiktok"
)

// sliceCtx is what expanding a track into slices needs: where the answers
// are, the page size, ceiling and per-slice page bound, and the time.
type sliceCtx struct {
	f        folder.Folder
	store    *checkpoint.Store
	pageSize int
	ceiling  int
	maxPages int
	now      time.Time
}

// expandTrack lists a track's slices as far as they are known: every slice of
// a track cut from its report, and the windows of a blind track up to the
// first that is not done. waiting is true while the track's report is still
// to come (its slices are not known yet).
func (x sliceCtx) expandTrack(tr *track) (out []*Shard, waiting bool, err error) {
	if tr.report != "" {
		answer, usable, done := reportAnswer(x.f, x.store, tr.report)
		if !done {
			st, known, err := x.store.Shard(tr.report)
			if err != nil {
				return nil, false, err
			}
			if !known || st.Status != checkpoint.StatusFailed || len(st.Split) > 0 {
				return nil, true, nil
			}
			// The report failed for good: plan blind.
		} else if usable {
			counts := countsFor(answer, tr.country)
			for _, ps := range tr.reportSlices(counts, x.pageSize, x.ceiling, x.maxPages, x.now) {
				sh := tr.shard(ps.Window)
				sh.Planned, sh.Expected, sh.exact = "report", ps.Expected, tr.exact
				sh.counts = counts
				kids, err := x.expandSlice(tr, sh)
				if err != nil {
					return nil, false, err
				}
				out = append(out, kids...)
			}
			return out, false, nil
		}
	}
	// Blind: window after window, each sized from the one before.
	w := firstBlind(tr.from, tr.to, tr.cutAt(x.now))
	for {
		sh := tr.shard(w)
		sh.Planned, sh.Expected = "blind", -1
		kids, err := x.expandSlice(tr, sh)
		if err != nil {
			return nil, false, err
		}
		out = append(out, kids...)
		st, known, err := x.store.Shard(sh.ID)
		if err != nil {
			return nil, false, err
		}
		if !known || st.Status != checkpoint.StatusDone {
			return out, false, nil
		}
		next, ok := nextBlind(w, harvested(st), tr.to, x.ceiling, tr.cutAt(x.now))
		if !ok {
			return out, false, nil
		}
		w = next
	}
}

// expandSlice is a slice as the checkpoint says it stands: itself; itself
// and the slice of the days it did not reach, after its search_id died
// overnight (recursively); or, when it came back short and was queried again
// as two halves, the halves.
func (x sliceCtx) expandSlice(tr *track, sh *Shard) ([]*Shard, error) {
	st, known, err := x.store.Shard(sh.ID)
	if err != nil || !known {
		return []*Shard{sh}, err
	}
	if st.Narrowed != "" {
		rest, err := x.expandSlice(tr, sh.narrowed(dayOf(st.Narrowed)))
		return append([]*Shard{sh}, rest...), err
	}
	if len(st.Split) == 0 {
		return []*Shard{sh}, nil
	}
	a, b, ok := halves(sh.Window, sh.counts)
	if !ok {
		return []*Shard{sh}, nil
	}
	var out []*Shard
	for _, ps := range []plannedSlice{a, b} {
		h := tr.shard(ps.Window)
		h.Planned, h.Expected, h.exact, h.counts = "half", ps.Expected, sh.exact, sh.counts
		h.after = sh.ID
		out = append(out, h)
	}
	return out, nil
}

// expandReport is a report as the checkpoint says it stands: itself, or the
// halves it was asked in after the API refused its range (recursively).
func (x sliceCtx) expandReport(r *Shard) ([]*Shard, error) {
	st, known, err := x.store.Shard(r.ID)
	if err != nil || !known || len(st.Split) == 0 || r.track == nil {
		return []*Shard{r}, err
	}
	a, b, _ := halves(r.Window, nil)
	var out []*Shard
	for _, w := range []job.Window{a.Window, b.Window} {
		kids, err := x.expandReport(r.track(w))
		if err != nil {
			return nil, err
		}
		out = append(out, kids...)
	}
	return out, nil
}

// harvested is what a done slice returned: distinct items, or its rows for
// a record written before the count existed.
func harvested(st checkpoint.Shard) int64 {
	if st.Harvested > 0 {
		return st.Harvested
	}
	return st.Rows
}

// planShards is every shard of a plan known so far, and the tracks still
// waiting for their report.
func (x sliceCtx) planShards(p *plan) (shards []*Shard, waiting map[string][]*track, err error) {
	for _, r := range p.reports {
		rs, err := x.expandReport(r)
		if err != nil {
			return nil, nil, err
		}
		shards = append(shards, rs...)
	}
	shards = append(shards, p.fixed...)
	waiting = map[string][]*track{}
	for _, tr := range p.tracks {
		out, wait, err := x.expandTrack(tr)
		if err != nil {
			return nil, nil, err
		}
		if wait {
			waiting[tr.report] = append(waiting[tr.report], tr)
			continue
		}
		shards = append(shards, out...)
	}
	return shards, waiting, nil
}

// todo reports whether a shard still has to run.
func (c *Crawler) todo(sh *Shard) (bool, error) {
	st, ok, err := c.Store.Shard(sh.ID)
	if err != nil {
		return false, err
	}
	if !(ok && st.Status == checkpoint.StatusDone && st.RequestHash == sh.reqHash && !Provisional(sh, st)) {
		return true, nil
	}
	if len(st.Split) > 0 {
		return false, nil // its halves stand in for it
	}
	// A done shard whose files are gone is not done.
	missing, err := MissingFiles(c.Folder, c.Store, sh.ID)
	if err != nil {
		return false, err
	}
	if len(missing) > 0 {
		c.Logf("%s: %d of its files are missing (%s); harvesting it again", sh.ID, len(missing), missing[0])
		c.lostMu.Lock()
		c.lost[sh.ID] = true
		c.lostMu.Unlock()
		return true, nil
	}
	return false, nil
}

// queue is the crawl's work: shards ready to run, handed to the workers in
// order, with follow-ups that finishing a shard makes ready.
type queue struct {
	mu      sync.Mutex
	cond    *sync.Cond
	ready   []*Shard
	queued  map[string]bool
	running int
	closed  bool
}

func newQueue() *queue {
	q := &queue{queued: map[string]bool{}}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// push adds shards not queued before.
func (q *queue) push(shs ...*Shard) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, sh := range shs {
		if !q.queued[sh.ID] {
			q.queued[sh.ID] = true
			q.ready = append(q.ready, sh)
		}
	}
	q.cond.Broadcast()
}

// take waits for the next shard; ok is false once the queue is closed, or
// empty with nothing running (nothing more can come).
func (q *queue) take() (*Shard, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.ready) == 0 && q.running > 0 && !q.closed {
		q.cond.Wait()
	}
	if q.closed || len(q.ready) == 0 {
		q.closed = true
		q.cond.Broadcast()
		return nil, false
	}
	sh := q.ready[0]
	q.ready = q.ready[1:]
	q.running++
	return sh, true
}

// done marks a taken shard finished, after its follow-ups were pushed.
func (q *queue) done() {
	q.mu.Lock()
	q.running--
	q.cond.Broadcast()
	q.mu.Unlock()
}

// close ends the queue: nothing more is handed out.
func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// RunPlan crawls a plan: its reports first, then the shards known up front
// and every slice as it becomes known (a track's slices when its report is
// in, a blind track's next window when the one before is done, the halves of
// a short slice). It returns as Run does.
func (c *Crawler) RunPlan(ctx context.Context, p *plan) error {
	c.defaults()
	c.plan = p
	x := c.sliceCtx(p)
	shards, waiting, err := x.planShards(p)
	if err != nil {
		return err
	}
	if err := Sweep(c.Folder, c.Store, shards); err != nil {
		return err
	}
	if c.afterSweep != nil {
		if err := c.afterSweep(); err != nil {
			return err
		}
	}
	c.lost = map[string]bool{}
	q := newQueue()
	for _, sh := range shards {
		run, err := c.todo(sh)
		if err != nil {
			return err
		}
		if run {
			q.push(sh)
		}
	}
	var (
		mu       sync.Mutex
		failed   []string
		firstErr error
		stopErr  error
		wg       sync.WaitGroup
	)
	if c.details == nil {
		c.haltErr.Store(nil) // else the fan-out alongside may have halted already
	}
	follow := func(sh *Shard, st checkpoint.Shard, runErr error) error {
		next, err := c.followUps(x, p, waiting, sh, st, runErr)
		if err != nil {
			return err
		}
		for _, n := range next {
			run, err := c.todo(n)
			if err != nil {
				return err
			}
			if run {
				q.push(n)
			}
		}
		return nil
	}
	for i := 0; i < c.Concurrency; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				sh, ok := q.take()
				if !ok {
					return
				}
				if ctx.Err() != nil || c.halted() != nil {
					q.done()
					q.close()
					return
				}
				st, err := c.runShard(ctx, sh)
				if c.Events.ShardDone != nil {
					c.Events.ShardDone(sh, st, err)
				}
				if err == nil || st.Status == checkpoint.StatusFailed {
					if ferr := follow(sh, st, err); ferr != nil && err == nil {
						err = ferr
					}
					// A report refused as too long and asked again in
					// halves has not failed: its halves stand for it.
					if rec, ok, _ := c.Store.Shard(sh.ID); err != nil && ok && len(rec.Split) > 0 && sh.ds == reportsDataset {
						err = nil
					}
				}
				if err != nil {
					mu.Lock()
					if fatal(err) {
						if stopErr == nil {
							stopErr = err
							c.halt(err)
						}
						q.close()
					} else if se := asStop(err, ctx); se != nil {
						if stopErr == nil {
							stopErr = se
							c.halt(se)
						}
						q.close()
					} else {
						failed = append(failed, sh.ID)
						if firstErr == nil {
							firstErr = err
						}
					}
					mu.Unlock()
				}
				q.done()
			}
		}()
	}
	wg.Wait()
	switch {
	case stopErr != nil:
		return stopErr
	case ctx.Err() != nil:
		return &StopError{Reason: "interrupted", Err: ctx.Err()}
	case len(failed) > 0:
		return &FailedError{Failed: failed, First: firstErr}
	}
	return nil
}

func (c *Crawler) sliceCtx(p *plan) sliceCtx {
	ceiling := p.job.SliceAds
	if ceiling <= 0 {
		ceiling = DefaultCeiling
	}
	return sliceCtx{f: c.Folder, store: c.Store, pageSize: p.job.MaxCount, ceiling: ceiling, maxPages: c.SlicePages, now: c.Now()}
}

// followUps are the shards that finishing sh makes ready: the slices of the
// tracks its report counts, a blind track's next window, or the two halves of
// a slice that came back short.
func (c *Crawler) followUps(x sliceCtx, p *plan, waiting map[string][]*track, sh *Shard, st checkpoint.Shard, runErr error) ([]*Shard, error) {
	var out []*Shard
	if sh.ds == reportsDataset {
		// A range the API refuses as too long is asked again in halves.
		if st.Status == checkpoint.StatusFailed && errors.Is(runErr, tiktok.ErrInvalidParams) && sh.track != nil && sh.Window.To.After(sh.Window.From) {
			a, b, _ := halves(sh.Window, nil)
			ha, hb := sh.track(a.Window), sh.track(b.Window)
			st.Split, st.Reason = []string{ha.ID, hb.ID}, "refused: asked again as two halves ("+c.Client.Scrub(runErr.Error())+")"
			if err := c.Store.SaveShard(st); err != nil {
				return nil, err
			}
			c.Logf("%s: the API refused the range; asking for it in two halves", sh.ID)
			return []*Shard{ha, hb}, nil
		}
		if st.Status == checkpoint.StatusFailed {
			c.Logf("%s failed; the tracks it was to count are sliced blind", sh.ID)
		}
		// Any report may complete what a track waits for (a half of a
		// refused range, say): look at every waiting track again.
		c.waitMu.Lock()
		defer c.waitMu.Unlock()
		for id, trs := range waiting {
			var still []*track
			for _, tr := range trs {
				shs, wait, err := x.expandTrack(tr)
				if err != nil {
					return nil, err
				}
				if wait {
					still = append(still, tr)
					continue
				}
				out = append(out, shs...)
			}
			if len(still) == 0 {
				delete(waiting, id)
			} else {
				waiting[id] = still
			}
		}
		return out, nil
	}
	if st.Status != checkpoint.StatusDone {
		return nil, nil
	}
	if st.Narrowed != "" && sh.track != nil {
		out = append(out, sh.narrowed(dayOf(st.Narrowed)))
	}
	switch {
	case sh.Planned == "blind" && sh.after != "":
		// The days a narrowed slice did not reach: the slice it was cut
		// from goes on with the track's next window (as expandTrack does),
		// so the days after this one are not asked twice.
	case sh.Planned == "blind":
		for _, tr := range p.tracks {
			if tr.ds == sh.ds && tr.country == sh.Partition && !sh.Window.From.Before(tr.from) && !sh.Window.To.After(tr.to) && tr.shard(sh.Window).ID == sh.ID {
				if next, ok := nextBlind(sh.Window, harvested(st), tr.to, x.ceiling, tr.cutAt(x.now)); ok {
					n := tr.shard(next)
					n.Planned, n.Expected = "blind", -1
					out = append(out, n)
				}
				break
			}
		}
	case sh.Planned == "report":
		if st.Narrowed != "" || coverageOf(st, false) != CoverShort {
			return out, nil
		}
		a, b, ok := halves(sh.Window, sh.counts)
		if !ok {
			return out, nil
		}
		var tr *track
		for _, t := range p.tracks {
			if t.ds == sh.ds && t.country == sh.Partition && !sh.Window.From.Before(t.from) && !sh.Window.To.After(t.to) && t.shard(sh.Window).ID == sh.ID {
				tr = t
				break
			}
		}
		if tr == nil {
			return out, nil
		}
		var ids []string
		for _, ps := range []plannedSlice{a, b} {
			h := tr.shard(ps.Window)
			h.Planned, h.Expected, h.exact, h.counts = "half", ps.Expected, sh.exact, sh.counts
			h.after = sh.ID // the short slice keeps what it found; the halves add the rest
			out = append(out, h)
			ids = append(ids, h.ID)
		}
		// Recorded first, so that a crash leaves the decision in place.
		st.Split = ids
		st.Reason = "short: queried again as two halves"
		if err := c.Store.SaveShard(st); err != nil {
			return nil, err
		}
		c.Logf("%s came back short (%d of %d ads); querying it again as two halves", sh.ID, st.Harvested, *st.Expected)
	}
	return out, nil
}

// Coverage statuses of a slice (the coverage table, status --coverage).
const (
	CoverComplete    = "complete"
	CoverShort       = "short"
	CoverEmptyPages  = "empty_pages"
	CoverCapped      = "capped"
	CoverUnverified  = "unverified"
	CoverProvisional = "provisional"
	CoverPending     = "pending"
)

// shortBy is how many ads below the report's count a slice may return and
// still count as complete: the index under ad/query moves while it is paged.
func shortBy(expected int64) int64 { return max(2, expected/200) }

// coverageOf is a slice's coverage status.
func coverageOf(st checkpoint.Shard, provisional bool) string {
	switch {
	case st.Status != checkpoint.StatusDone:
		return CoverPending
	case provisional:
		return CoverProvisional
	case st.Stop == "empty_pages":
		return CoverEmptyPages
	case st.Stop == "capped":
		return CoverCapped
	case st.Expected == nil || !st.Exact:
		return CoverUnverified
	case st.Harvested < *st.Expected-shortBy(*st.Expected):
		return CoverShort
	}
	return CoverComplete
}
