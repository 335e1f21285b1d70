package crawl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"

	"adharvest/checkpoint"
	"adharvest/countries"
	"adharvest/internal/failpoint"
	"adharvest/job"
	"adharvest/sink"
	"adharvest/tiktok"
	"adharvest/tiktok/api"
)

// DetailsShardID is the one shard of the ad/detail fan-out. Its "pages" are
// single-ad responses; its parts hold many ads each.
const DetailsShardID = "ad_details/details"

// DetailFlush is how many ad/detail responses go into one part file. The
// responses are durable in the checkpoint as they come, so a larger part costs
// memory (about 2 MB for a thousand), not re-fetching after a crash.
const DetailFlush = 1000

var detailsDataset = &dataset{
	name:     job.AdDetails,
	table:    sink.AdDetails,
	endpoint: api.EndpointAdDetail,
	decode: decoder(api.DecodeAdDetail, func(d api.AdDetailPage) pageInfo {
		if d.Reject != nil {
			return pageInfo{rejects: 1}
		}
		return pageInfo{items: 1}
	}),
	write: writeDetails,
}

func detailsShard() *Shard {
	return &Shard{ID: DetailsShardID, Dataset: job.AdDetails, Stem: "details", ds: detailsDataset, reqHash: "ad/detail"}
}

// RunDetails fetches ad/detail once for every distinct ad id the ads dataset
// found that has no detail yet, newest first, across the crawler's workers.
// Each response is committed with its id marked done in one transaction, so no
// detail is fetched twice once it is durable, and every DetailFlush responses
// become one part of ad_details and its child tables.
func (c *Crawler) RunDetails(ctx context.Context) error {
	c.defaults()
	c.haltErr.Store(nil)
	d, err := c.startDetails(ctx, false)
	if err != nil {
		return err
	}
	return d.wait()
}

// RunPlanWithDetails crawls a plan as RunPlan does while the detail fan-out
// runs alongside it: the details of every ads part start as soon as the part
// is committed, within the same concurrency and rate, instead of after the
// last slice. (A --detail-budget, which goes to the newest ads, waits for
// all of them to be known: Run then calls RunPlan and RunDetails in turn.)
func (c *Crawler) RunPlanWithDetails(ctx context.Context, p *plan) error {
	c.defaults()
	c.haltErr.Store(nil)
	var d *detailRun
	// The fan-out starts once the sweep is over, which must not meet a part
	// being written.
	c.afterSweep = func() error {
		// The slots exist before the fan-out's workers start.
		c.slots = make(chan struct{}, c.Concurrency)
		var err error
		if d, err = c.startDetails(ctx, true); err != nil {
			return err
		}
		c.details = d
		return nil
	}
	defer func() { c.details, c.slots, c.afterSweep = nil, nil, nil }()
	err := c.RunPlan(ctx, p)
	if d == nil {
		return err
	}
	var fe *FailedError
	if err != nil && !errors.As(err, &fe) {
		c.halt(err) // the slices stopped: so does the fan-out
	}
	d.endFeed()
	derr := d.wait()
	if (err == nil || errors.As(err, &fe)) && derr != nil {
		return derr
	}
	return err
}

// detailRun is one run of the ad/detail fan-out. Its workers commit their
// responses concurrently (sharing fsyncs through the checkpoint's group
// commit) and one part is written at a time while they go on fetching, so no
// lock is held across a request, a commit or a write.
type detailRun struct {
	c    *Crawler
	ctx  context.Context
	sh   *Shard
	feed *feed[int64]
	// streaming: ads parts committed while the fan-out runs add their ads
	// (see Crawler.detailsFor); the feed ends with endFeed.
	streaming bool

	mu      sync.Mutex // guards what follows
	st      checkpoint.Shard
	seq     int
	buf     *partBuf
	queued  map[int64]bool
	owed    int // ads known to be owed a detail when the run began or since
	budget  int // ads the run may still start; -1 for no cap
	skipped int // ads left for a later run by the budget
	failed  []string

	flushMu  sync.Mutex // one part at a time
	flushing bool
	flushErr error
	done     chan struct{}
	stopErr  error
}

// startDetails starts the fan-out on the ads the checkpoint's ad index holds
// that are owed a detail. With streaming, it goes on taking the ads of every
// ads part committed until endFeed.
func (c *Crawler) startDetails(ctx context.Context, streaming bool) (*detailRun, error) {
	sh := detailsShard()
	st, ok, err := c.Store.Shard(sh.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		st = checkpoint.Shard{ID: sh.ID, Dataset: sh.Dataset, RequestHash: sh.reqHash}
	}
	// Responses a crash left pending are already marked done: they go into
	// the first part.
	buf, err := c.loadPending(sh)
	if err != nil {
		return nil, err
	}
	d := &detailRun{c: c, ctx: ctx, sh: sh, feed: newFeed[int64](), streaming: streaming, buf: buf, budget: -1, queued: map[int64]bool{}, done: make(chan struct{})}
	if n := len(buf.pages); n > 0 {
		d.seq = buf.pages[n-1].Seq + 1
		st.Pages += n // counted in the state only at a flush
	}
	ids, err := DetailIDs(c.Store)
	if err != nil {
		return nil, err
	}
	done, err := c.Store.Done()
	if err != nil {
		return nil, err
	}
	for id := range done {
		d.queued[id] = true
	}
	if c.DetailBudget > 0 {
		d.budget = c.DetailBudget
	}
	st.Status = checkpoint.StatusRunning
	d.st = st
	if err := c.Store.SaveShard(st); err != nil {
		return nil, err
	}
	todo := d.admit(ids)
	stale, err := c.staleActives(c.Now())
	if err != nil {
		return nil, err
	}
	todo = append(todo, d.admitRecheck(stale)...)
	if c.Events.Phase != nil {
		c.Events.Phase(job.AdDetails, len(todo))
	}
	d.feed.push(todo...)
	if !streaming {
		d.feed.close()
	}
	go d.run()
	return d, nil
}

// admit returns the ids not yet fetched, queued or refused, marking them
// queued, up to the budget; the rest are counted as owed to a later run.
func (d *detailRun) admit(ids []int64) []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []int64
	for _, id := range ids {
		if d.queued[id] {
			continue
		}
		d.owed++
		if d.budget == 0 {
			d.skipped++
			continue
		}
		d.queued[id] = true
		if d.budget > 0 {
			d.budget--
		}
		out = append(out, id)
	}
	return out
}

// more adds the ads of a committed ads part to a streaming fan-out.
func (d *detailRun) more(ads []checkpoint.AdSeen) {
	ids := make([]int64, len(ads))
	for i, a := range ads {
		ids[i] = a.ID
	}
	todo := d.admit(ids)
	if len(todo) == 0 {
		return
	}
	if d.c.Events.More != nil {
		d.c.Events.More(job.AdDetails, len(todo))
	}
	d.feed.push(todo...)
}

// endFeed tells a streaming fan-out that no more ads parts are coming.
func (d *detailRun) endFeed() { d.feed.close() }

func (d *detailRun) run() {
	defer close(d.done)
	c := d.c
	stopErr := fanOut(d.ctx, c.Concurrency, d.feed, c.halt, d.fetch, func(id int64, err error) error {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.st.Err, d.st.LogID = c.Client.Scrub(err.Error()), tiktok.LogIDOf(err)
		if errors.Is(err, tiktok.ErrInvalidParams) && !namesField(err) {
			// The API refuses this id (removed, or never detailable): record
			// why and do not spend quota on it again.
			return c.Store.MarkFailed(id, err.Error())
		}
		d.failed = append(d.failed, fmt.Sprint(id))
		return nil
	})
	d.mu.Lock()
	if d.skipped > 0 && stopErr == nil {
		stopErr = &StopError{Reason: fmt.Sprintf("this run's --detail-budget of %d ad/detail calls is spent; %d details are still owed and the next run fetches them", c.DetailBudget, d.skipped), Err: ErrDetailBudget}
	}
	complete := stopErr == nil && len(d.failed) == 0
	d.mu.Unlock()
	if err := d.flush(complete); err != nil {
		stopErr = err
	}
	d.stopErr = stopErr
}

// wait waits for the fan-out to end and returns as RunDetails does.
func (d *detailRun) wait() error {
	<-d.done
	c := d.c
	if c.Events.ShardDone != nil {
		c.Events.ShardDone(d.sh, d.st, d.stopErr)
	}
	switch {
	case d.stopErr != nil:
		return d.stopErr
	case len(d.failed) > 0:
		return &FailedError{Failed: []string{fmt.Sprintf("ad/detail for %d ads (first %s)", len(d.failed), d.failed[0])}, First: errors.New(d.st.Err)}
	}
	return nil
}

// fetch fetches one ad's details and commits the response.
func (d *detailRun) fetch(ctx context.Context, id int64) error {
	c, sh := d.c, d.sh
	if err := c.halted(); err != nil {
		return err
	}
	if err := d.failedFlush(); err != nil {
		return err
	}
	body := api.AdDetailRequest{AdID: id}
	resp, err := c.callFields(ctx, api.EndpointAdDetail, body)
	if err != nil {
		return fmt.Errorf("ad/detail %d: %w", id, err)
	}
	// An answer that cannot be decoded is kept (raw, and in rejects) and the
	// id marked fetched: asking again would pay for the same answer.
	data, info, err := sh.ds.decode(resp.Data)
	if err != nil {
		return fmt.Errorf("ad/detail %d: decode (log_id %s): %w", id, resp.LogID, err)
	}
	reqJSON, _ := json.Marshal(body)
	d.mu.Lock()
	page := checkpoint.Page{Seq: d.seq, FetchedAt: c.Now().UTC(), RunID: c.RunID, Endpoint: api.EndpointAdDetail, Request: reqJSON, LogID: resp.LogID, Body: resp.Body}
	d.seq++
	d.mu.Unlock()
	page.Frame = c.Store.Frame(page)
	if err := c.Store.CommitFetched(sh.ID, page, id); err != nil {
		return fmt.Errorf("ad/detail %d: checkpoint: %w", id, err)
	}
	_ = failpoint.Hit(failpoint.DetailCommit)
	d.mu.Lock()
	d.st.Pages++
	d.st.Requests += resp.Attempts
	d.st.Rejects += info.rejects
	d.buf.add(page, data, info.items)
	full := len(d.buf.pages) >= DetailFlush && !d.flushing
	if full {
		d.flushing = true
	}
	d.mu.Unlock()
	if c.Events.Page != nil {
		c.Events.Page(sh, 1)
	}
	if full {
		err := d.flush(false)
		d.mu.Lock()
		d.flushing = false
		d.mu.Unlock()
		return err
	}
	return nil
}

// flush writes the buffered responses as the next part, while the workers
// go on fetching into a fresh buffer. A failed write leaves its responses
// pending in the checkpoint, for the next run, and stops this one.
func (d *detailRun) flush(complete bool) error {
	d.flushMu.Lock()
	defer d.flushMu.Unlock()
	d.mu.Lock()
	buf, st := d.buf, d.st
	d.buf = &partBuf{}
	d.mu.Unlock()
	err := d.c.flush(d.sh, &st, buf, complete, nil)
	buf.reset()
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.flushErr = err
		return err
	}
	d.st.Parts, d.st.Rows, d.st.Harvested, d.st.Status = st.Parts, st.Rows, st.Harvested, st.Status
	return nil
}

func (d *detailRun) failedFlush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flushErr
}

// writeDetails turns ad/detail responses into ad_details rows and the long
// child tables, all in one part.
func writeDetails(pw *partWriter, sh *Shard, pages []fetched) (written, error) {
	var (
		details []sink.AdDetailRow
		reach   []sink.AdReachRow
		targets []sink.AdTargetCountryRow
		ages    []sink.AdTargetFlagRow
		genders []sink.AdTargetFlagRow
	)
	seen := map[int64]bool{}
	var rejects []sink.RejectRow
	eachPage(pages, func(p checkpoint.Page, dp api.AdDetailPage) {
		if dp.Reject != nil {
			rejects = append(rejects, rejectRows(sh, p, []api.Reject{*dp.Reject})...)
		}
		if !dp.OK {
			return
		}
		d := dp.Detail
		var req api.AdDetailRequest
		_ = json.Unmarshal(p.Request, &req)
		id := req.AdID // the id asked for is the key, even if the response omits ad.id
		if id == 0 && d.Ad.ID.Valid {
			id = d.Ad.ID.V
		}
		if id == 0 || seen[id] {
			return
		}
		seen[id] = true
		prov := sh.provenance(p)
		a, adv := d.Ad, d.Advertiser
		row := sink.AdDetailRow{
			AdFields:              adFields(id, a, adv),
			AdvertiserCountryCode: adv.CountryCode.Ptr(),
			RejectionReasons:      []string{},
			RejectionCountries:    []string{},
			RejectionCountryCodes: []string{},
			Provenance:            prov,
		}
		if acc := adv.TikTokAccount; acc != nil {
			row.FollowerCount, row.ProfileURL, row.AvatarURL = acc.FollowerCount.Ptr(), acc.ProfileURL.Ptr(), acc.AvatarURL.Ptr()
		}
		if rej := a.RejectionInfo; rej != nil {
			row.Rejected = true
			row.RejectionReasons = nonNil(rej.Reasons)
			row.RejectionCountries = nonNil(rej.AffectedCountries)
			for _, c := range rej.AffectedCountries {
				if code, ok := countries.Code(c); ok {
					row.RejectionCountryCodes = append(row.RejectionCountryCodes, code)
				}
			}
			row.RejectionSource, row.RejectionAutomated = rej.ReportingSource.Ptr(), rej.AutomatedNotice.Ptr()
		}
		if t := d.AdGroup.Targeting; t != nil {
			row.HasTargeting = true
			b := api.ParseBounds(string(t.NumberOfUsersTargeted))
			row.UsersTargetedText, row.UsersTargetedLower, row.UsersTargetedUpper = t.NumberOfUsersTargeted.Ptr(), b.Lower, b.Upper
			row.AudienceTargeting, row.VideoInteractions = t.AudienceTargeting.Ptr(), t.VideoInteractions.Ptr()
			row.CreatorInteractions, row.Interest = t.CreatorInteractions.Ptr(), t.Interest.Ptr()
			seenC := map[string]bool{}
			for _, c := range t.Country {
				if c != "" && !seenC[c] {
					seenC[c] = true
					targets = append(targets, sink.AdTargetCountryRow{AdID: id, CountryCode: c, Provenance: prov})
				}
			}
			for _, f := range t.Ages() {
				ages = append(ages, sink.AdTargetFlagRow{AdID: id, Value: f.Key, Targeted: f.Enabled, Provenance: prov})
			}
			for _, f := range t.Genders() {
				genders = append(genders, sink.AdTargetFlagRow{AdID: id, Value: f.Key, Targeted: f.Enabled, Provenance: prov})
			}
		}
		cs := make([]string, 0, len(a.Reach.UniqueUsersSeenByCountry))
		for c := range a.Reach.UniqueUsersSeenByCountry {
			cs = append(cs, c)
		}
		sort.Strings(cs)
		for _, c := range cs {
			text := a.Reach.UniqueUsersSeenByCountry[c]
			b := api.ParseBounds(text)
			reach = append(reach, sink.AdReachRow{AdID: id, CountryCode: c, ReachText: text, ReachLower: b.Lower, ReachUpper: b.Upper, Provenance: prov})
		}
		details = append(details, row)
	})
	// Children first, parent last: the parent's row count is what the state
	// records, and every file of the part is replaced together on a re-flush.
	if err := writeRejects(pw, rejects); err != nil {
		return written{}, err
	}
	if _, err := writeTable(pw, sink.AdReach, reach); err != nil {
		return written{}, err
	}
	if _, err := writeTable(pw, sink.AdTargetCountries, targets); err != nil {
		return written{}, err
	}
	if _, err := writeTable(pw, sink.AdTargetAges, ages); err != nil {
		return written{}, err
	}
	if _, err := writeTable(pw, sink.AdTargetGenders, genders); err != nil {
		return written{}, err
	}
	return writeTable(pw, sink.AdDetails, details)
}
