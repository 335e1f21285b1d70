// Package manifest is DIR/manifest.json: what a harvest was asked, by which
// tool, when, and what landed. A folder shared without the tool still says
// what it holds, and status and report read it while a running harvest holds
// the checkpoint. Reading is lenient: fields a later version added are ignored
// and missing ones are zero, so any version's manifest can be read.
package manifest

import (
	"encoding/json"
	"io"
	"os"
	"sort"
	"time"

	"adharvest/job"
	"adharvest/sink"
)

// Manifest is the content of manifest.json. It is rewritten atomically at the
// start and end of every run and every few seconds while one runs.
type Manifest struct {
	Tool    string  `json:"tool"`
	Version string  `json:"version"`
	Job     job.Job `json:"job"`
	JobHash string  `json:"job_hash"`
	APIURL  string  `json:"api_url"`
	// Settings are the flags the folder was last harvested with, which a
	// plain resume keeps (see Settings).
	Settings *Settings `json:"settings,omitempty"`
	// LearnedRPS is the request rate --rps auto last held just below where
	// the API at APIURL began to throttle; the next run starts there.
	LearnedRPS float64                  `json:"learned_rps,omitempty"`
	Created    time.Time                `json:"created"`
	Runs       []RunRecord              `json:"runs"`
	Datasets   map[string]DatasetCounts `json:"datasets"`
	Complete   bool                     `json:"complete"`
	// Usage is the data requests recorded for the current UTC day, so that
	// status can show them while a harvest holds the checkpoint.
	Usage *Usage `json:"usage,omitempty"`
	// Coverage is the overall figure of the coverage table: how many slices
	// are complete, short, unverified…, and the ads reported against those
	// harvested.
	Coverage *Coverage `json:"coverage,omitempty"`
	// DroppedFields are the fields the service refused, per endpoint: the
	// crawl asks without them since, so their columns stay NULL.
	DroppedFields map[string][]string `json:"dropped_fields,omitempty"`
	// Stops counts the slices that ended before the API said it had no
	// more, by why: "empty_pages" (the empty-page guard) or "capped".
	Stops     map[string]int `json:"stops,omitempty"`
	LastError *ErrorRecord   `json:"last_error,omitempty"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// Coverage sums the coverage table. Verified is the harvested ads of the
// slices an exact report counts, each slice's counted at most up to its
// report; Verified/Reported is how complete the verifiable part is.
type Coverage struct {
	Slices    int            `json:"slices"`
	Statuses  map[string]int `json:"statuses"`
	Reported  int64          `json:"reported"`
	Verified  int64          `json:"verified"`
	Harvested int64          `json:"harvested"`
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

// Run statuses.
const (
	RunRunning  = "running"
	RunComplete = "complete"
	RunStopped  = "stopped"
	RunFailed   = "failed"
	// RunPlanned is a plan's run: only report requests were sent.
	RunPlanned = "planned"
)

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

// LastRun is the newest run, and false when none is recorded.
func (m Manifest) LastRun() (RunRecord, bool) {
	if len(m.Runs) == 0 {
		return RunRecord{}, false
	}
	return m.Runs[len(m.Runs)-1], true
}

// Read reads a manifest file.
func Read(path string) (Manifest, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Manifest{}, err
	}
	return Parse(b)
}

// Parse reads the content of a manifest file.
func Parse(b []byte) (Manifest, error) {
	var m Manifest
	return m, json.Unmarshal(b, &m)
}

// Write replaces a manifest file atomically, stamping UpdatedAt and putting the
// runs in the order they started.
func Write(path string, m Manifest) error {
	m.UpdatedAt = time.Now().UTC()
	sort.Slice(m.Runs, func(i, j int) bool { return m.Runs[i].Started.Before(m.Runs[j].Started) })
	return sink.WriteFileAtomic(path, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(m)
	})
}
