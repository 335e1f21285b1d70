package harvest

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"adharvest/checkpoint"
	"adharvest/sink"
)

// Manifest is DIR/manifest.json: what was asked, by which tool, when, and what
// landed. It is rewritten atomically at the start and end of every run, so that
// a folder shared without the tool still says what it holds.
type Manifest struct {
	Tool     string                   `json:"tool"`
	Version  string                   `json:"version"`
	Job      Job                      `json:"job"`
	JobHash  string                   `json:"job_hash"`
	APIURL   string                   `json:"api_url"`
	Created  time.Time                `json:"created"`
	Runs     []RunRecord              `json:"runs"`
	Datasets map[string]DatasetCounts `json:"datasets"`
	Complete bool                     `json:"complete"`
	// Usage is the data requests recorded for the current UTC day, so that
	// status can show them while a harvest holds the checkpoint.
	Usage     *Usage       `json:"usage,omitempty"`
	LastError *ErrorRecord `json:"last_error,omitempty"`
	UpdatedAt time.Time    `json:"updated_at"`
}

// Usage is one UTC day's request count.
type Usage struct {
	Day      string `json:"day"`
	Requests int    `json:"requests"`
}

// ErrorRecord is the most recent shard error, with the API's log_id.
type ErrorRecord struct {
	Shard string    `json:"shard"`
	Error string    `json:"error"`
	LogID string    `json:"log_id,omitempty"`
	At    time.Time `json:"at"`
}

// LastError finds the most recently updated shard that holds an error.
func LastError(states []checkpoint.Shard) *ErrorRecord {
	var last *ErrorRecord
	for _, s := range states {
		if s.Err != "" && (last == nil || s.UpdatedAt.After(last.At)) {
			last = &ErrorRecord{Shard: s.ID, Error: s.Err, LogID: s.LogID, At: s.UpdatedAt}
		}
	}
	return last
}

// RunRecord is one invocation of harvest on the folder.
type RunRecord struct {
	RunID    string    `json:"run_id"`
	Started  time.Time `json:"started"`
	Ended    time.Time `json:"ended,omitzero"`
	Status   string    `json:"status"` // running, complete, stopped, failed
	Message  string    `json:"message,omitempty"`
	Requests int64     `json:"requests"`
}

// DatasetCounts summarises one dataset's shards.
type DatasetCounts struct {
	Shards  int   `json:"shards"`
	Done    int   `json:"done"`
	Failed  int   `json:"failed"`
	Pending int   `json:"pending"`
	Rows    int64 `json:"rows"`
	// Provisional counts done shards whose window was too recent when they
	// finished; the next run harvests them again.
	Provisional int `json:"provisional,omitempty"`
	// Requests is what the shards cost, retries included; MinRequests is the
	// least any client could have spent: one per shard, or ceil(rows/max_count)
	// for paged shards.
	Requests    int64 `json:"requests"`
	MinRequests int64 `json:"min_requests"`
}

// ManifestPath is where an output folder's manifest lives.
func ManifestPath(out string) string { return filepath.Join(out, "manifest.json") }

// ReadManifest reads an output folder's manifest.
func ReadManifest(out string) (Manifest, error) {
	var m Manifest
	b, err := os.ReadFile(ManifestPath(out))
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// WriteManifest replaces the manifest atomically.
func WriteManifest(out string, m Manifest) error {
	m.UpdatedAt = time.Now().UTC()
	sort.Slice(m.Runs, func(i, j int) bool { return m.Runs[i].Started.Before(m.Runs[j].Started) })
	return sink.WriteFileAtomic(ManifestPath(out), func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	})
}

// Count summarises the checkpoint's shard states against the plan.
func Count(job Job, shards []*Shard, states []checkpoint.Shard) map[string]DatasetCounts {
	byID := map[string]checkpoint.Shard{}
	for _, s := range states {
		byID[s.ID] = s
	}
	out := map[string]DatasetCounts{}
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
				minReq = (st.Rows + int64(job.MaxCount) - 1) / int64(job.MaxCount)
			}
			if st.Status == checkpoint.StatusDone {
				c.MinRequests += minReq
			}
		}
		out[sh.Dataset] = c
	}
	if job.Has(DatasetAdDetails) {
		c := DatasetCounts{Shards: 1, Pending: 1}
		if st, ok := byID[DetailsShardID]; ok {
			c.Rows, c.Requests, c.MinRequests = st.Rows, int64(st.Requests), int64(st.Pages)
			switch st.Status {
			case checkpoint.StatusDone:
				c.Done, c.Pending = 1, 0
			case checkpoint.StatusFailed:
				c.Failed, c.Pending = 1, 0
			}
		}
		out[DatasetAdDetails] = c
	}
	return out
}
