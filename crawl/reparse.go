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
	"sort"
	"strings"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/internal/failpoint"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/media"
	"adharvest/sink"
)

// ReparseReport says what a reparse did.
type ReparseReport struct {
	// Parts counts the parts decoded again from their raw twins; Reused
	// those an interrupted reparse had staged already.
	Parts, Reused int
	// Kept lists the parts whose raw twin is lost or unreadable: they are
	// kept as they were (check --repair says more).
	Kept []string
	// OldSchema counts the data files an older parser had written.
	OldSchema int
	// Rows is every table's rows afterwards.
	Rows map[string]int64
	// Finished says an interrupted reparse's swap was finished first.
	Finished bool
}

// ReparseOptions tunes a reparse.
type ReparseOptions struct {
	// Progress, when set, is told after every part.
	Progress func(done, total int)
	Now      func() time.Time
}

// Reparse rebuilds every table of a harvest folder from its raw twins, with
// no request: after a parser upgrade the tables gain what the new parser
// reads, and otherwise they come out exactly as the harvest wrote them. The
// new parts are written to a staging folder (resumably: a part staged by a
// killed reparse is not decoded again), committed to the checkpoint in one
// transaction, and then swapped in by renaming table folders; a crash at any
// point leaves the old tables or the new ones, never a mix (see
// checkpoint.StagedPart).
func Reparse(ctx context.Context, dir string, o ReparseOptions) (ReparseReport, error) {
	rep := ReparseReport{Rows: map[string]int64{}}
	if o.Now == nil {
		o.Now = time.Now
	}
	f := folder.New(dir)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return rep, inputErr("--out %s is not a harvest folder", dir)
	}
	if _, err := os.Stat(f.Checkpoint()); errors.Is(err, fs.ErrNotExist) {
		if p := firstPart(f); p != "" {
			return rep, inputErr("%s holds data but no checkpoint (%s); rebuild it first with `adharvest check --out %s --repair`", dir, folder.CheckpointName(), dir)
		}
		return rep, inputErr("%s holds no harvest (no %s)", dir, folder.CheckpointName())
	}
	lock, err := checkpoint.Acquire(f.Lock(), dir)
	if err != nil {
		return rep, &InputError{Msg: err.Error(), Err: err}
	}
	defer lock.Release()
	store, err := checkpoint.Open(f.Checkpoint())
	var ce *checkpoint.CorruptError
	if errors.As(err, &ce) {
		return rep, &DamageError{Err: err, Msg: fmt.Sprintf("%s: %v; rebuild it with `adharvest check --out %s --repair`, then reparse", dir, ce, dir)}
	}
	if err != nil {
		return rep, err
	}
	defer store.Close()
	if rep.Finished, err = finishSwap(f, store); err != nil {
		return rep, err
	}
	if err := backfillFiles(f, store); err != nil {
		return rep, err
	}
	var j job.Job
	jb, err := store.Meta(metaJob)
	if err != nil {
		return rep, err
	}
	if jb == nil {
		return rep, inputErr("%s holds no harvest (its checkpoint names no job)", dir)
	}
	if err := json.Unmarshal(jb, &j); err != nil {
		return rep, &DamageError{Err: err, Msg: fmt.Sprintf("the job stored in %s is unreadable (%v); run `adharvest check --out %s --repair`", dir, err, dir)}
	}
	x := &reparser{f: f, stage: folder.New(f.ReparseStage()), store: store, rep: &rep}
	if err := x.load(); err != nil {
		return rep, err
	}
	if err := x.stageAll(ctx, o.Progress); err != nil {
		return rep, err
	}
	if err := x.commit(); err != nil {
		return rep, err
	}
	if _, err := finishSwap(f, store); err != nil {
		return rep, err
	}
	// What is derived from the tables follows them.
	now := o.Now()
	p := newPlan(j)
	cov, err := writeCoverage(f, store, p, now)
	if err != nil {
		return rep, err
	}
	if mediaKept(f, j) {
		if _, err := media.Refresh(f, store, now); err != nil {
			return rep, err
		}
	}
	if man, err := manifest.Read(f.Manifest()); err == nil {
		if states, err := store.Shards(); err == nil {
			shards, waiting := knownShards(f, store, p, 0, now)
			man.Datasets = Count(j, shards, states)
			addWaiting(man.Datasets, waiting)
			man.Stops = Stops(states)
		}
		man.Coverage = &cov
		if err := manifest.Write(f.Manifest(), man); err != nil {
			return rep, err
		}
	}
	err = store.Files(func(rec checkpoint.File) error {
		if !rec.Raw {
			rep.Rows[tableOfPath(rec.Path)] += rec.Rows
		}
		return nil
	})
	return rep, err
}

type reparser struct {
	f, stage folder.Folder
	store    *checkpoint.Store
	rep      *ReparseReport
	// shards are the states of every shard with parts, parents (the slices
	// others took over from) before their successors.
	shards []checkpoint.Shard
	parent map[string]string
	files  map[string]map[int][]checkpoint.File
	staged map[string]map[int]checkpoint.StagedPart
}

func (x *reparser) load() error {
	states, err := x.store.Shards()
	if err != nil {
		return err
	}
	x.parent = predecessors(states)
	depth := func(id string) int {
		d := 0
		for seen := map[string]bool{}; x.parent[id] != "" && !seen[id]; id = x.parent[id] {
			seen[id] = true
			d++
		}
		return d
	}
	for _, st := range states {
		if st.Parts > 0 {
			x.shards = append(x.shards, st)
		}
	}
	sort.SliceStable(x.shards, func(i, j int) bool {
		di, dj := depth(x.shards[i].ID), depth(x.shards[j].ID)
		if di != dj {
			return di < dj
		}
		return x.shards[i].ID < x.shards[j].ID
	})
	x.files = map[string]map[int][]checkpoint.File{}
	err = x.store.Files(func(rec checkpoint.File) error {
		if x.files[rec.Shard] == nil {
			x.files[rec.Shard] = map[int][]checkpoint.File{}
		}
		x.files[rec.Shard][rec.Part] = append(x.files[rec.Shard][rec.Part], rec)
		if !rec.Raw && rec.Schema != sink.SchemaVersion {
			x.rep.OldSchema++
		}
		return nil
	})
	if err != nil {
		return err
	}
	x.staged, err = x.store.StagedParts()
	return err
}

func (x *reparser) stageAll(ctx context.Context, progress func(done, total int)) error {
	total, done := 0, 0
	for _, st := range x.shards {
		total += st.Parts
	}
	newAds := map[string]map[int64]bool{}
	for _, st := range x.shards {
		sh, known := shardOfID(st.ID)
		if known && sh.ds == adsDataset {
			if p := x.parent[st.ID]; p != "" {
				// As the crawl did: a slice that took over from another does
				// not write again the ads its predecessor holds.
				sh.after, sh.exclude = p, newAds[p]
				if sh.exclude == nil {
					sh.exclude = map[int64]bool{}
				}
			}
			newAds[st.ID] = map[int64]bool{}
		}
		for n := 0; n < st.Parts; n++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			sp, err := x.stagePart(sh, known, st.ID, n)
			if err != nil {
				return fmt.Errorf("reparse %s part %d: %w", st.ID, n, err)
			}
			if x.staged[st.ID] == nil {
				x.staged[st.ID] = map[int]checkpoint.StagedPart{}
			}
			x.staged[st.ID][n] = sp
			for _, a := range sp.Ads {
				if newAds[st.ID] != nil {
					newAds[st.ID][a.ID] = true
				}
			}
			done++
			if progress != nil {
				progress(done, total)
			}
		}
	}
	return nil
}

// stagePart writes part n of a shard into the staging folder, from its raw
// twin, or reuses what an interrupted reparse staged of it.
func (x *reparser) stagePart(sh *Shard, known bool, id string, n int) (checkpoint.StagedPart, error) {
	var raw *checkpoint.File
	var data []checkpoint.File
	for _, rec := range x.files[id][n] {
		if rec.Raw {
			r := rec
			raw = &r
		} else {
			data = append(data, rec)
		}
	}
	if old, ok := x.staged[id][n]; ok && x.stagedIntact(old, raw) {
		x.rep.Reused++
		return old, nil
	}
	var pages []checkpoint.Page
	var err error
	if known && raw != nil {
		pages, err = readRaw(x.f.Abs(raw.Path))
	}
	if !known || raw == nil || err != nil {
		return x.keep(sh, known, id, n, data)
	}
	pw, w, err := rewritePart(x.stage, sh, n, pages)
	if err != nil {
		return checkpoint.StagedPart{}, err
	}
	sp := checkpoint.StagedPart{Shard: id, Part: n, RawSHA256: raw.SHA256, Files: pw.files, Ads: w.ads, Rows: w.rows, Overlap: w.overlap}
	if err := failpoint.Hit(failpoint.ReparsePart); err != nil {
		return sp, err
	}
	x.rep.Parts++
	return sp, x.store.StagePart(sp)
}

// stagedIntact reports whether a part staged earlier still stands for the
// raw twin it was decoded from, with its files in the staging folder.
func (x *reparser) stagedIntact(sp checkpoint.StagedPart, raw *checkpoint.File) bool {
	if !sp.Kept && (raw == nil || raw.SHA256 != sp.RawSHA256) {
		return false
	}
	for _, rec := range sp.Files {
		fi, err := os.Stat(x.stage.Abs(rec.Path))
		if err != nil || fi.Size() != rec.Size {
			return false
		}
	}
	return true
}

// keep stages a part that cannot be decoded again as it is: the swap
// replaces whole table folders, so every file that stays must be staged.
func (x *reparser) keep(sh *Shard, known bool, id string, n int, data []checkpoint.File) (checkpoint.StagedPart, error) {
	sp := checkpoint.StagedPart{Shard: id, Part: n, Kept: true, Files: data}
	for _, rec := range data {
		if err := linkOrCopy(x.f.Abs(rec.Path), x.stage.Abs(rec.Path)); err != nil {
			return sp, err
		}
		if known && tableOfPath(rec.Path) == sh.ds.table.Name {
			sp.Rows += rec.Rows
			if sh.ds == adsDataset {
				ads, err := readAdsPart(x.f.Abs(rec.Path))
				if err != nil {
					return sp, err
				}
				sp.Ads = ads
			}
		}
	}
	x.rep.Kept = append(x.rep.Kept, fmt.Sprintf("%s part %d", id, n))
	return sp, x.store.StagePart(sp)
}

func linkOrCopy(from, to string) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	os.Remove(to)
	if err := os.Link(from, to); err == nil {
		return nil
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	_, err = sink.WriteFileAtomicSum(to, func(w io.Writer) error {
		_, err := io.Copy(w, in)
		return err
	})
	return err
}

// commit records the staged parts as the folder's, with the journal of the
// swap that moves their tables into place.
func (x *reparser) commit() error {
	var states []checkpoint.Shard
	for _, st := range x.shards {
		parts := x.staged[st.ID]
		var rows, overlap, last, rejects int64
		ids := map[int64]bool{}
		for n := 0; n < st.Parts; n++ {
			p := parts[n]
			rows += p.Rows
			overlap += p.Overlap
			last = p.Overlap
			for _, a := range p.Ads {
				ids[a.ID] = true
			}
			for _, rec := range p.Files {
				if tableOfPath(rec.Path) == sink.Rejects.Name {
					rejects += rec.Rows
				}
			}
		}
		st.Rows, st.Rejects = rows, int(rejects)
		sh, known := shardOfID(st.ID)
		if st.Status == checkpoint.StatusDone && known {
			st.Harvested = sliceHarvested(sh.ds, rows, ids, overlap)
			if sh.ds == adsDataset {
				st.Overlap = overlap - last // the finishing flush does not add its own
			}
		} else if known && sh.ds == adsDataset {
			st.Overlap = overlap
		}
		states = append(states, st)
	}
	journal := swapJournal{}
	for _, t := range sink.Tables {
		if t.Derived {
			continue
		}
		_, err := os.Stat(x.stage.TableDir(t))
		journal.Tables = append(journal.Tables, swapTable{Name: t.Name, Staged: err == nil})
	}
	jb, _ := json.Marshal(journal)
	if err := sink.SyncDir(x.stage.Dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return x.store.CommitReparse(states, x.staged, jb)
}

type swapJournal struct {
	Tables []swapTable `json:"tables"`
}

type swapTable struct {
	Name string `json:"name"`
	// Staged says the reparse wrote the table; a table it did not write
	// (all its rows gone, say, for rejects a new parser reads) is removed.
	Staged bool `json:"staged"`
}

// finishSwap moves the tables of a committed reparse into place, if one's
// journal is waiting: every step is a rename that can be done again, so a
// crash midway is finished by whoever opens the folder next (reparse,
// harvest or check --repair). It reports whether there was one.
func finishSwap(f folder.Folder, store *checkpoint.Store) (bool, error) {
	jb, err := store.ReparseSwap()
	if err != nil || jb == nil {
		if err == nil {
			os.RemoveAll(f.ReparseOld()) // a swap that ended before its clean-up
		}
		return false, err
	}
	var j swapJournal
	if err := json.Unmarshal(jb, &j); err != nil {
		return false, &DamageError{Err: err, Msg: fmt.Sprintf("the reparse journal of %s is unreadable (%v); run `adharvest check --out %s --repair`", f.Dir, err, f.Dir)}
	}
	stage, old := folder.New(f.ReparseStage()), folder.New(f.ReparseOld())
	if err := os.MkdirAll(old.Dir, 0o755); err != nil {
		return false, err
	}
	if err := sink.SyncDir(filepath.Dir(old.Dir)); err != nil {
		return false, err
	}
	for i, t := range j.Tables {
		tb := sink.Table{Name: t.Name}
		live, staged, aside := f.TableDir(tb), stage.TableDir(tb), old.TableDir(tb)
		_, stagedErr := os.Stat(staged)
		_, asideErr := os.Stat(aside)
		if t.Staged && stagedErr != nil {
			continue // moved into place already
		}
		if !t.Staged && asideErr == nil {
			continue // removed already
		}
		if err := os.Rename(live, aside); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("reparse: set %s aside: %w", t.Name, err)
		}
		if t.Staged {
			if err := os.Rename(staged, live); err != nil {
				return false, fmt.Errorf("reparse: move the new %s into place: %w", t.Name, err)
			}
		} else if err := os.MkdirAll(aside, 0o755); err != nil {
			return false, err
		}
		if i == 0 {
			_ = failpoint.Hit(failpoint.ReparseSwap)
		}
	}
	if err := sink.SyncDir(f.Dir); err != nil {
		return false, err
	}
	// The old tables' folder goes first: while it exists, readers know the
	// tables are half swapped (queries.CheckFolder refuses them).
	if err := os.RemoveAll(old.Dir); err != nil {
		return false, err
	}
	os.RemoveAll(stage.Dir)
	if err := store.EndReparseSwap(); err != nil {
		return false, err
	}
	return true, nil
}

// tableOfPath is the table a registered file belongs to: the first folder of
// its path (raw twins: the second).
func tableOfPath(rel string) string {
	first, rest, _ := strings.Cut(rel, "/")
	if first == "raw" {
		first, _, _ = strings.Cut(rest, "/")
	}
	return first
}

// mediaKept reports whether the folder archives creatives: its job has the
// media dataset, or `adharvest media` has stored some. Only then are the
// media tables kept current.
func mediaKept(f folder.Folder, j job.Job) bool {
	if j.Has(job.Media) {
		return true
	}
	_, err := os.Stat(f.MediaStore())
	return err == nil
}
