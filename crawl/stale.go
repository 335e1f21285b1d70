package crawl

import (
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"time"

	"adharvest/checkpoint"
	"adharvest/sink"
)

// Stale actives. A takedown can come long after an ad stopped being shown,
// and ad/query fetches an ad again only while its day is provisional, so an
// ad that is still active when its days become final would keep that status
// in the folder for good. With Crawler.RecheckDays N, the detail fan-out
// also asks ad/detail again for the ads whose last known status is active
// and whose last_shown_date is N or more days old, that no detail has looked
// at for N days: newest first, after the ads still owed a first detail, and
// within the same --detail-budget. A re-check that the budget leaves out is
// not owed (the run still completes); the next run picks it up.

// detailSeen is what a detail answer said of an ad, as kept in its part.
type detailSeen struct {
	AdID          int64     `parquet:"ad_id"`
	LastShownDate *int32    `parquet:"last_shown_date,date,optional"`
	Status        *string   `parquet:"status,optional"`
	FetchedAt     time.Time `parquet:"fetched_at,timestamp(microsecond)"`
}

// staleActives lists the ads to re-check at now, newest first.
func (c *Crawler) staleActives(now time.Time) ([]int64, error) {
	if c.RecheckDays <= 0 {
		return nil, nil
	}
	files, err := c.Store.ShardFiles(DetailsShardID)
	if err != nil {
		return nil, err
	}
	latest := map[int64]detailSeen{}
	for _, f := range files {
		if f.Raw || f.Table != sink.AdDetails.Name {
			continue
		}
		rows, err := sink.ReadParquet[detailSeen](c.Folder.Abs(f.Path))
		if errors.Is(err, fs.ErrNotExist) {
			continue // a part the sweep or a repair deals with
		}
		if err != nil {
			return nil, fmt.Errorf("stale actives: %w", err)
		}
		for _, r := range rows {
			if l, ok := latest[r.AdID]; !ok || r.FetchedAt.After(l.FetchedAt) {
				latest[r.AdID] = r
			}
		}
	}
	// ad/query may have seen an ad shown since its detail was fetched.
	shown := map[int64]int32{}
	if err := c.Store.Ads(func(a checkpoint.AdSeen) { shown[a.ID] = max(shown[a.ID], a.Last) }); err != nil {
		return nil, err
	}
	today := int32(now.UTC().Unix() / 86400)
	cooled := now.Add(-time.Duration(c.RecheckDays) * 24 * time.Hour)
	type stale struct {
		id   int64
		last int32
	}
	var out []stale
	for id, d := range latest {
		if d.Status == nil || *d.Status != "active" || d.LastShownDate == nil || d.FetchedAt.After(cooled) {
			continue
		}
		last := max(*d.LastShownDate, shown[id])
		if today-last >= int32(c.RecheckDays) {
			out = append(out, stale{id, last})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].last != out[j].last {
			return out[i].last > out[j].last
		}
		return out[i].id > out[j].id
	})
	ids := make([]int64, len(out))
	for i, s := range out {
		ids[i] = s.id
	}
	return ids, nil
}

// admitRecheck queues stale actives (fetched before, so queued already) up
// to what is left of the budget; the rest wait for a later run, not owed.
func (d *detailRun) admitRecheck(ids []int64) []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []int64
	for _, id := range ids {
		if d.budget == 0 {
			break
		}
		if d.budget > 0 {
			d.budget--
		}
		out = append(out, id)
	}
	return out
}
