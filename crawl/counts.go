package crawl

import (
	"adharvest/checkpoint"
	"adharvest/job"
	"adharvest/manifest"
)

// LastError finds the most recently updated shard that holds an error.
func LastError(states []checkpoint.Shard) *manifest.ErrorRecord {
	var last *manifest.ErrorRecord
	for _, s := range states {
		if s.Err != "" && (last == nil || s.UpdatedAt.After(last.At)) {
			last = &manifest.ErrorRecord{Shard: s.ID, Error: s.Err, LogID: s.LogID, At: s.UpdatedAt}
		}
	}
	return last
}

// Count summarises the checkpoint's shard states against the plan.
func Count(j job.Job, shards []*Shard, states []checkpoint.Shard) map[string]manifest.DatasetCounts {
	byID := map[string]checkpoint.Shard{}
	for _, s := range states {
		byID[s.ID] = s
	}
	out := map[string]manifest.DatasetCounts{}
	for _, sh := range shards {
		c := out[sh.Dataset]
		c.Shards++
		st, ok := byID[sh.ID]
		switch {
		case ok && st.Status == checkpoint.StatusDone:
			c.Done++
			if Provisional(sh, st) {
				c.Provisional++
			}
		case ok && st.Status == checkpoint.StatusFailed:
			c.Failed++
		default:
			c.Pending++
		}
		if ok {
			c.Rows += st.Rows
			c.Requests += int64(st.Requests)
			minReq := int64(1)
			if sh.ds.paged && st.Rows > 0 {
				minReq = (st.Rows + int64(j.MaxCount) - 1) / int64(j.MaxCount)
			}
			if st.Status == checkpoint.StatusDone {
				c.MinRequests += minReq
			}
		}
		out[sh.Dataset] = c
	}
	if j.Has(job.AdDetails) {
		c := manifest.DatasetCounts{Shards: 1, Pending: 1}
		if st, ok := byID[DetailsShardID]; ok {
			c.Rows, c.Requests, c.MinRequests = st.Rows, int64(st.Requests), int64(st.Pages)
			switch st.Status {
			case checkpoint.StatusDone:
				c.Done, c.Pending = 1, 0
			case checkpoint.StatusFailed:
				c.Failed, c.Pending = 1, 0
			}
		}
		out[job.AdDetails] = c
	}
	return out
}

// Stops counts the slices that ended before the API said it had no more, by
// why (a slice queried again as halves is counted by its halves).
func Stops(states []checkpoint.Shard) map[string]int {
	var out map[string]int
	for _, st := range states {
		if st.Stop != "" && len(st.Split) == 0 {
			if out == nil {
				out = map[string]int{}
			}
			out[st.Stop]++
		}
	}
	return out
}
