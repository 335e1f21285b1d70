package crawl

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/sink"
)

// Status is what an output folder holds and what is left to do.
type Status struct {
	Job    job.Job
	Counts map[string]manifest.DatasetCounts
	// Day is the UTC day of Requests, the data requests recorded on it.
	Day      string
	Requests int
	// DetailsOwed and DetailsRefused count ads without a detail, when the job
	// has ad-details.
	DetailsOwed, DetailsRefused int
	LastError                   *manifest.ErrorRecord
	// Missing lists registered files that are not on disk (at most a few),
	// and MissingCount counts them all: `adharvest check` tells more.
	Missing      []string
	MissingCount int
	// Rejects counts the items the API sent that could not be decoded.
	Rejects int
	// Warnings are the shards' warnings ("shard: what"), at most a few, and
	// WarningCount counts them all.
	Warnings     []string
	WarningCount int
	// OldSchema counts the data files a parser older than this one wrote
	// (`adharvest reparse` rebuilds them from raw/ with no request).
	OldSchema int
	// DroppedFields are the fields the service refused, per endpoint: the
	// crawl asks without them, so their columns stay NULL.
	DroppedFields map[string][]string
	// Stops counts the slices that ended before the API said it had no
	// more, by why ("empty_pages", "capped"); StoppedSlices names a few.
	Stops         map[string]int
	StoppedSlices []string
	// SwapPending says a reparse was interrupted while it moved its new
	// tables into place (the next reparse, harvest or check --repair
	// finishes it).
	SwapPending bool
	// Usage is the day's requests per endpoint, with throttled answers.
	Usage checkpoint.DayUsage
	// Coverage is the coverage table as the checkpoint stands: one row per
	// slice.
	Coverage []sink.CoverageRow
	// Manifest is the folder's manifest.json, nil when it cannot be read.
	Manifest *manifest.Manifest
	// Live is set when a running harvest holds the checkpoint: the figures
	// then come from the manifest it refreshes, as of Manifest.UpdatedAt, and
	// Owner says who holds the folder (zero when unknown).
	Live  bool
	Owner checkpoint.Owner
}

// ReadStatus reads the status of the output folder dir without changing it.
func ReadStatus(dir string, now time.Time) (Status, error) {
	var s Status
	f := folder.New(dir)
	if _, err := os.Stat(dir); err != nil {
		return s, inputErr("--out %s does not exist", dir)
	}
	if m, err := manifest.Read(f.Manifest()); err == nil {
		s.Manifest = &m
	}
	store, err := checkpoint.OpenReadOnly(f.Checkpoint())
	if err != nil {
		if errors.Is(err, checkpoint.ErrBusy) {
			return liveStatus(f, s)
		}
		return s, inputErr("%s holds no harvest (no %s)", dir, folder.CheckpointName())
	}
	defer store.Close()
	b, err := store.Meta(metaJob)
	if err != nil || b == nil {
		return s, inputErr("%s holds no harvest job", dir)
	}
	if err := json.Unmarshal(b, &s.Job); err != nil {
		return s, err
	}
	states, err := store.Shards()
	if err != nil {
		return s, err
	}
	p := newPlan(s.Job)
	shards, waiting := knownShards(f, store, p, 0, now)
	if s.Coverage, err = coverage(f, store, p, now); err != nil {
		return s, err
	}
	s.Counts = Count(s.Job, shards, states)
	addWaiting(s.Counts, waiting)
	s.Day = now.UTC().Format("2006-01-02")
	s.Requests, _ = store.Usage(s.Day)
	s.Usage, _ = store.UsageOf(s.Day)
	for _, st := range states {
		s.Rejects += st.Rejects
		if st.Stop != "" && len(st.Split) == 0 && len(s.StoppedSlices) < 5 {
			s.StoppedSlices = append(s.StoppedSlices, st.ID+": "+st.Reason)
		}
		for _, w := range st.Warnings {
			if s.WarningCount++; len(s.Warnings) < 5 {
				s.Warnings = append(s.Warnings, st.ID+": "+w)
			}
		}
	}
	s.Stops = Stops(states)
	s.DroppedFields, _ = DroppedFields(store)
	if jb, _ := store.ReparseSwap(); jb != nil {
		s.SwapPending = true
	}
	_ = store.Files(func(rec checkpoint.File) error {
		if !rec.Raw && rec.Schema != sink.SchemaVersion {
			s.OldSchema++
		}
		if _, err := os.Stat(f.Abs(rec.Path)); errors.Is(err, fs.ErrNotExist) {
			if s.MissingCount++; len(s.Missing) < 3 {
				s.Missing = append(s.Missing, rec.Path)
			}
		}
		return nil
	})
	if s.Job.Has(job.AdDetails) {
		if owed, refused, err := DetailsOwed(f, store); err == nil {
			s.DetailsOwed, s.DetailsRefused = owed, refused
		}
	}
	s.LastError = LastError(states)
	return s, nil
}

// liveStatus answers from the manifest that a running harvest rewrites every
// few seconds.
func liveStatus(f folder.Folder, s Status) (Status, error) {
	if s.Manifest == nil {
		return s, inputErr("%s is being harvested right now and has no readable %s yet; try again in a few seconds", f.Dir, filepath.Base(f.Manifest()))
	}
	m := s.Manifest
	s.Live = true
	s.Owner, _ = checkpoint.ReadOwner(f.Lock())
	s.Job, s.Counts, s.LastError = m.Job, m.Datasets, m.LastError
	s.DroppedFields, s.Stops = m.DroppedFields, m.Stops
	if m.Usage != nil {
		s.Day, s.Requests = m.Usage.Day, m.Usage.Requests
	}
	return s, nil
}
