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

// DetailFlush is how many ad/detail responses go into one part file.
const DetailFlush = 100

var detailsDataset = &dataset{
	name:     job.AdDetails,
	table:    sink.AdDetails,
	endpoint: api.EndpointAdDetail,
	fields:   api.RequiredFieldNames(api.EndpointAdDetail),
	page: func(data json.RawMessage) (pageInfo, error) {
		d, err := api.DecodeAdDetail(data)
		if d.Reject != nil {
			return pageInfo{rejects: 1}, err
		}
		return pageInfo{items: 1}, err
	},
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
	sh := detailsShard()
	st, ok, err := c.Store.Shard(sh.ID)
	if err != nil {
		return err
	}
	if !ok {
		st = checkpoint.Shard{ID: sh.ID, Dataset: sh.Dataset, RequestHash: sh.reqHash}
	}
	// Responses a crash left pending are already marked done: write them out first.
	if err := c.flush(sh, &st, false, nil); err != nil {
		return err
	}
	ids, err := DetailIDs(c.Store)
	if err != nil {
		return err
	}
	done, err := c.Store.Done()
	if err != nil {
		return err
	}
	var todo []int64
	for _, id := range ids {
		if _, ok := done[id]; !ok {
			todo = append(todo, id)
		}
	}
	st.Status = checkpoint.StatusRunning
	if err := c.Store.SaveShard(st); err != nil {
		return err
	}
	if c.Events.Phase != nil {
		n := len(todo)
		if c.DetailBudget > 0 && c.DetailBudget < n {
			n = c.DetailBudget
		}
		c.Events.Phase(job.AdDetails, n)
	}

	var (
		mu      sync.Mutex // guards st, seq, pending and flushes
		seq     int
		pending int
		failed  []string
	)
	if p, err := c.Store.Pending(sh.ID); err == nil && len(p) > 0 {
		seq = p[len(p)-1].Seq + 1
	}
	// The budget is taken here, newest first, before an id reaches a worker,
	// so calls already in flight always finish and are kept.
	batch := todo
	if c.DetailBudget > 0 && c.DetailBudget < len(todo) {
		batch = todo[:c.DetailBudget]
	}
	c.haltErr.Store(nil)
	stopErr := fanOut(ctx, c.Concurrency, batch, c.halt, func(ctx context.Context, id int64) error {
		return c.fetchDetail(ctx, sh, id, &mu, &st, &seq, &pending)
	}, func(id int64, err error) error {
		mu.Lock()
		defer mu.Unlock()
		st.Err, st.LogID = c.Client.Scrub(err.Error()), tiktok.LogIDOf(err)
		if errors.Is(err, tiktok.ErrInvalidParams) {
			// The API refuses this id (removed, or never detailable): record
			// why and do not spend quota on it again.
			return c.Store.MarkFailed(id, err.Error())
		}
		failed = append(failed, fmt.Sprint(id))
		return nil
	})
	if len(batch) < len(todo) && stopErr == nil {
		stopErr = &StopError{Reason: fmt.Sprintf("this run's --detail-budget of %d ad/detail calls is spent; %d details are still owed and the next run fetches them", c.DetailBudget, len(todo)-len(batch)), Err: ErrDetailBudget}
	}
	complete := stopErr == nil && len(failed) == 0
	if err := c.flush(sh, &st, complete, nil); err != nil {
		return err
	}
	if c.Events.ShardDone != nil {
		c.Events.ShardDone(sh, st, stopErr)
	}
	switch {
	case stopErr != nil:
		return stopErr
	case len(failed) > 0:
		return &FailedError{Failed: []string{fmt.Sprintf("ad/detail for %d ads (first %s)", len(failed), failed[0])}, First: errors.New(st.Err)}
	}
	return nil
}

// fetchDetail fetches one ad's details and commits the response.
func (c *Crawler) fetchDetail(ctx context.Context, sh *Shard, id int64, mu *sync.Mutex, st *checkpoint.Shard, seq, pending *int) error {
	if err := c.halted(); err != nil {
		return err
	}
	body := api.AdDetailRequest{AdID: id}
	resp, err := c.Client.Call(ctx, api.EndpointAdDetail, sh.ds.fields, body)
	if err != nil {
		return fmt.Errorf("ad/detail %d: %w", id, err)
	}
	// An answer that cannot be decoded is kept (raw, and in rejects) and the
	// id marked fetched: asking again would pay for the same answer.
	info, err := sh.ds.page(resp.Data)
	if err != nil {
		return fmt.Errorf("ad/detail %d: decode (log_id %s): %w", id, resp.LogID, err)
	}
	reqJSON, _ := json.Marshal(body)
	mu.Lock()
	defer mu.Unlock()
	st.Pages++
	st.Requests += resp.Attempts
	st.Rejects += info.rejects
	page := checkpoint.Page{Seq: *seq, FetchedAt: c.Now().UTC(), RunID: c.RunID, Endpoint: api.EndpointAdDetail, Request: reqJSON, LogID: resp.LogID, Body: resp.Body}
	if err := c.Store.CommitPage(*st, page, id); err != nil {
		return fmt.Errorf("ad/detail %d: checkpoint: %w", id, err)
	}
	_ = failpoint.Hit(failpoint.DetailCommit)
	*seq++
	*pending++
	if c.Events.Page != nil {
		c.Events.Page(sh, 1)
	}
	if *pending >= DetailFlush {
		*pending = 0
		return c.flush(sh, st, false, nil)
	}
	return nil
}

// writeDetails turns ad/detail responses into ad_details rows and the long
// child tables, all in one part.
func writeDetails(pw *partWriter, sh *Shard, pages []checkpoint.Page) (written, error) {
	var (
		details []sink.AdDetailRow
		reach   []sink.AdReachRow
		targets []sink.AdTargetCountryRow
		ages    []sink.AdTargetFlagRow
		genders []sink.AdTargetFlagRow
	)
	seen := map[int64]bool{}
	var rejects []sink.RejectRow
	err := decodePages(pages, api.DecodeAdDetail, func(p checkpoint.Page, dp api.AdDetailPage) {
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
	if err != nil {
		return written{}, err
	}
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
