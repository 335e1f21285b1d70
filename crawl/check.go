package crawl

import (
	"bufio"
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
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/sink"
	"adharvest/tiktok/api"

	"github.com/klauspost/compress/zstd"
)

// Problem is one thing a check found wrong with a folder.
type Problem struct {
	// Path is the file, relative to the folder.
	Path string
	// What says what is wrong, in a few words.
	What string
}

func (p Problem) String() string { return p.Path + ": " + p.What }

// CheckReport is what Check found, and with repair what it did.
type CheckReport struct {
	// Files counts the registered files verified.
	Files int
	// Problems is what is wrong after the check (and the repair, if any).
	Problems []Problem
	// Repaired lists what a repair fixed, one line each.
	Repaired []string
}

// Intact reports whether the folder is as its checkpoint says.
func (r CheckReport) Intact() bool { return len(r.Problems) == 0 }

// Check verifies an output folder against its checkpoint: every file the
// checkpoint names exists, has the size and SHA-256 recorded, is readable, and
// holds the rows recorded; every data file is one the checkpoint names. It
// changes nothing. With repair it then rebuilds what it can without a
// request: a damaged or missing part from its raw twin, a lost or damaged
// checkpoint from the parts and raw twins (with the job from manifest.json),
// and it removes temporary files an interrupted run left; a part that cannot
// be rebuilt sends its shard back to pending, so that the next harvest fetches
// it again rather than calling it done.
func Check(ctx context.Context, dir string, repair bool) (CheckReport, error) {
	var rep CheckReport
	f := folder.New(dir)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return rep, inputErr("--out %s is not a harvest folder", dir)
	}
	if repair {
		lock, err := checkpoint.Acquire(f.Lock(), dir)
		if err != nil {
			return rep, &InputError{Msg: err.Error(), Err: err}
		}
		defer lock.Release()
	}
	store, err := openForCheck(f, repair)
	var ce *checkpoint.CorruptError
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.As(err, &ce):
		what := "missing"
		if ce != nil {
			what = "damaged (" + ce.Err.Error() + ")"
		}
		if !repair {
			if firstPart(f) == "" {
				return rep, inputErr("%s holds no harvest (no %s)", dir, folder.CheckpointName())
			}
			rep.Problems = append(rep.Problems, Problem{Path: folder.CheckpointName(), What: "checkpoint " + what + "; `adharvest check --repair` rebuilds it from the folder"})
			return rep, nil
		}
		if ce != nil {
			aside := f.Checkpoint() + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
			if err := os.Rename(f.Checkpoint(), aside); err != nil {
				return rep, fmt.Errorf("set the damaged checkpoint aside: %w", err)
			}
			rep.Repaired = append(rep.Repaired, "the damaged checkpoint is kept as "+f.Rel(aside))
		}
		lines, err := Rebuild(ctx, f)
		if err != nil {
			return rep, err
		}
		rep.Repaired = append(rep.Repaired, lines...)
		if store, err = checkpoint.Open(f.Checkpoint()); err != nil {
			return rep, err
		}
	case err != nil:
		return rep, err
	}
	defer store.Close()
	if repair {
		if done, err := finishSwap(f, store); err != nil {
			return rep, err
		} else if done {
			rep.Repaired = append(rep.Repaired, "finished the table swap of an interrupted reparse")
		}
	} else if jb, err := store.ReparseSwap(); err != nil {
		return rep, err
	} else if jb != nil {
		// The checkpoint names the new tables, not all of which are in
		// place: checking the files now would only list the swap's steps.
		rep.Problems = append(rep.Problems, Problem{Path: f.Rel(f.ReparseStage()), What: "a reparse was interrupted while it moved the new tables into place; `adharvest reparse --out " + dir + "` (or check --repair) finishes it"})
		return rep, nil
	}
	if repair {
		if err := backfillFiles(f, store); err != nil {
			return rep, err
		}
	}
	problems, damaged, err := verify(ctx, f, store)
	if err != nil {
		return rep, err
	}
	rep.Files = problems.files
	if !repair {
		rep.Problems = problems.list
		return rep, nil
	}
	fixed, remaining, err := repairParts(ctx, f, store, damaged)
	if err != nil {
		return rep, err
	}
	rep.Repaired = append(rep.Repaired, fixed...)
	for _, p := range problems.list {
		if p.What == tempFile {
			if err := os.Remove(f.Abs(p.Path)); err == nil {
				rep.Repaired = append(rep.Repaired, p.Path+": temporary file removed")
				continue
			}
		}
		if !damaged.has(p.Path) {
			remaining = append(remaining, p)
		}
	}
	rep.Problems = remaining
	return rep, nil
}

func openForCheck(f folder.Folder, write bool) (*checkpoint.Store, error) {
	if _, err := os.Stat(f.Checkpoint()); err != nil {
		return nil, err
	}
	if write {
		return checkpoint.Open(f.Checkpoint())
	}
	return checkpoint.OpenReadOnly(f.Checkpoint())
}

const (
	tempFile    = "temporary file left by an interrupted run"
	unknownFile = "a data file the checkpoint does not name"
)

type found struct {
	files int
	list  []Problem
}

// damagedParts is every part (shard and number) with a file that is missing or
// damaged, keyed by the shard, with the damaged files' paths.
type damagedParts map[string]map[int][]string

func (d damagedParts) add(shard string, part int, path string) {
	if d[shard] == nil {
		d[shard] = map[int][]string{}
	}
	d[shard][part] = append(d[shard][part], path)
}

func (d damagedParts) has(path string) bool {
	for _, parts := range d {
		for _, paths := range parts {
			for _, p := range paths {
				if p == path {
					return true
				}
			}
		}
	}
	return false
}

// verify checks every registered file and looks for files nobody registered.
func verify(ctx context.Context, f folder.Folder, store *checkpoint.Store) (found, damagedParts, error) {
	var out found
	damaged := damagedParts{}
	known := map[string]bool{}
	err := store.Files(func(rec checkpoint.File) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		known[rec.Path] = true
		out.files++
		if what := verifyFile(f, rec); what != "" {
			out.list = append(out.list, Problem{Path: rec.Path, What: what})
			damaged.add(rec.Shard, rec.Part, rec.Path)
		}
		return nil
	})
	if err != nil {
		return out, nil, err
	}
	// Parts committed before the registry existed are checked by name.
	if ok, err := store.FilesRegistered(); err == nil && !ok {
		if err := legacyParts(f, store, func(shard string, part int, path string, raw bool) {
			rel := f.Rel(path)
			if known[rel] {
				return
			}
			known[rel] = true
			if _, err := os.Stat(path); err != nil && raw {
				out.list = append(out.list, Problem{Path: rel, What: "missing"})
				damaged.add(shard, part, rel)
			}
		}); err != nil {
			return out, nil, err
		}
	}
	roots := []string{f.Raw()}
	for _, t := range sink.Tables {
		if !t.Derived {
			roots = append(roots, f.TableDir(t))
		}
	}
	for _, root := range roots {
		err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					return nil
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			rel := f.Rel(path)
			switch {
			case strings.HasPrefix(d.Name(), sink.TempPrefix):
				out.list = append(out.list, Problem{Path: rel, What: tempFile})
			case known[rel]:
			case strings.HasSuffix(d.Name(), folder.PartExt) || strings.HasSuffix(d.Name(), folder.RawExt):
				out.list = append(out.list, Problem{Path: rel, What: unknownFile})
			}
			return nil
		})
		if err != nil {
			return out, nil, err
		}
	}
	sort.Slice(out.list, func(i, j int) bool { return out.list[i].Path < out.list[j].Path })
	return out, damaged, nil
}

// verifyFile returns what is wrong with one registered file, or "".
func verifyFile(f folder.Folder, rec checkpoint.File) string {
	path := f.Abs(rec.Path)
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "missing"
		}
		return "unreadable (" + err.Error() + ")"
	}
	if rec.SHA256 != "" && fi.Size() != rec.Size {
		return fmt.Sprintf("%d bytes, the checkpoint recorded %d", fi.Size(), rec.Size)
	}
	if rec.SHA256 != "" {
		sum, err := sink.FileSum(path)
		if err != nil {
			return "unreadable (" + err.Error() + ")"
		}
		if sum.SHA256 != rec.SHA256 {
			return "its content changed (SHA-256 differs from the checkpoint's)"
		}
	}
	var rows int64
	if rec.Raw {
		pages, err := readRaw(path)
		if err != nil {
			return "unreadable (" + err.Error() + ")"
		}
		rows = int64(len(pages))
	} else {
		n, _, err := sink.ParquetRows(path)
		if err != nil {
			return "unreadable (" + err.Error() + ")"
		}
		rows = n
	}
	if rec.Rows != 0 && rows != rec.Rows {
		return fmt.Sprintf("%d rows, the checkpoint recorded %d", rows, rec.Rows)
	}
	return ""
}

// legacyParts calls each for every file name the committed parts of a
// checkpoint without a registry stand for: the raw twin of each part, and the
// Parquet file of each table (which a part without rows for it never wrote).
func legacyParts(f folder.Folder, store *checkpoint.Store, each func(shard string, part int, path string, raw bool)) error {
	states, err := store.Shards()
	if err != nil {
		return err
	}
	for _, st := range states {
		sh, ok := shardOfID(st.ID)
		if !ok {
			continue
		}
		for n := 0; n < st.Parts; n++ {
			pw := &partWriter{f: f, sh: sh, n: n}
			each(st.ID, n, sh.rawPath(f, n), true)
			for _, t := range sink.Tables {
				if t.OwnedBy(sh.ds.table.Name) {
					each(st.ID, n, pw.path(t), false)
				}
			}
		}
	}
	return nil
}

// backfillFiles registers the files of a checkpoint written before the
// registry existed, once, from the files as they are.
func backfillFiles(f folder.Folder, store *checkpoint.Store) error {
	if ok, err := store.FilesRegistered(); err != nil || ok {
		return err
	}
	byShard := map[string][]checkpoint.File{}
	err := legacyParts(f, store, func(shard string, part int, path string, raw bool) {
		sum, err := sink.FileSum(path)
		if err != nil {
			return // not written (no rows), or lost: check reports the raw ones
		}
		rec := checkpoint.File{Path: f.Rel(path), Shard: shard, Part: part, Raw: raw, Size: sum.Size, SHA256: sum.SHA256}
		if raw {
			if pages, err := readRaw(path); err == nil {
				rec.Rows = int64(len(pages))
			}
		} else if n, schema, err := sink.ParquetRows(path); err == nil {
			rec.Rows, rec.Schema = n, schema
		}
		byShard[shard] = append(byShard[shard], rec)
	})
	if err != nil {
		return err
	}
	for shard, files := range byShard {
		if err := store.RegisterFiles(shard, files); err != nil {
			return err
		}
	}
	return store.MarkFilesRegistered()
}

// repairParts rebuilds each damaged part from its raw twin, and sends the
// shards whose raw twin is lost too back to pending.
func repairParts(ctx context.Context, f folder.Folder, store *checkpoint.Store, damaged damagedParts) (fixed []string, remaining []Problem, err error) {
	ids := make([]string, 0, len(damaged))
	for id := range damaged {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	states, err := store.Shards()
	if err != nil {
		return nil, nil, err
	}
	parent := predecessors(states)
	for _, id := range ids {
		sh, ok := shardOfID(id)
		st, known, err := store.Shard(id)
		if err != nil {
			return nil, nil, err
		}
		if !ok || !known {
			continue
		}
		parts := damaged[id]
		nums := make([]int, 0, len(parts))
		for n := range parts {
			nums = append(nums, n)
		}
		sort.Ints(nums)
		var lost []int // parts whose data and raw twin are both gone
		for _, n := range nums {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			raw := sh.rawPath(f, n)
			rawLost := rawDamaged(parts[n], f.Rel(raw))
			dataLost := len(parts[n]) > 1 || !rawLost
			switch {
			case rawLost && !dataLost:
				// The data is intact; only its responses are gone.
				if err := store.UnregisterFile(id, f.Rel(raw)); err != nil {
					return nil, nil, err
				}
				fixed = append(fixed, f.Rel(raw)+": raw twin lost; its part is intact but can no longer be reparsed")
				continue
			case rawLost:
				lost = append(lost, n)
				continue
			}
			pages, err := readRaw(raw)
			if err != nil {
				lost = append(lost, n)
				continue
			}
			if sh.after = parent[id]; sh.ds == adsDataset {
				if err := loadExclude(store, sh); err != nil {
					return nil, nil, err
				}
			}
			pw, _, err := rewritePart(f, sh, n, pages)
			if err != nil {
				return nil, nil, fmt.Errorf("rebuild %s part %d: %w", id, n, err)
			}
			if err := store.RegisterFiles(id, pw.files); err != nil {
				return nil, nil, err
			}
			for _, p := range parts[n] {
				fixed = append(fixed, p+": rebuilt from "+f.Rel(raw))
			}
		}
		if len(lost) == 0 {
			continue
		}
		if sh.ds == detailsDataset {
			lines, err := forgetLostDetails(f, store, sh, st, lost)
			if err != nil {
				return nil, nil, err
			}
			fixed = append(fixed, lines...)
			continue
		}
		// Without the responses the shard's data cannot be restored: the next
		// harvest fetches the shard again.
		reset := checkpoint.Shard{ID: st.ID, Dataset: st.Dataset, RequestHash: st.RequestHash, Status: checkpoint.StatusPending,
			Requests: st.Requests, Restarts: st.Restarts, Reason: "reset by check --repair: a part and its raw twin were lost"}
		if err := store.ResetShard(reset); err != nil {
			return nil, nil, err
		}
		for n := 0; n < st.Parts; n++ {
			pw := &partWriter{f: f, sh: sh, n: n}
			os.Remove(sh.rawPath(f, n))
			for _, t := range sink.Tables {
				if t.OwnedBy(sh.ds.table.Name) {
					os.Remove(pw.path(t))
				}
			}
		}
		fixed = append(fixed, id+": a part and its raw twin were lost; the shard will be harvested again")
	}
	return fixed, nil, nil
}

// forgetLostDetails handles lost parts of the ad/detail fan-out: the ads
// whose details were in them are marked owed again (the next harvest fetches
// them), and the lost parts' files leave the registry. The surviving parts
// are kept.
func forgetLostDetails(f folder.Folder, store *checkpoint.Store, sh *Shard, st checkpoint.Shard, lost []int) ([]string, error) {
	isLost := map[int]bool{}
	for _, n := range lost {
		isLost[n] = true
	}
	kept := map[int64]bool{}
	for n := 0; n < st.Parts; n++ {
		if isLost[n] {
			continue
		}
		pw := &partWriter{f: f, sh: sh, n: n}
		rows, err := sink.ReadParquet[struct {
			AdID int64 `parquet:"ad_id"`
		}](pw.path(sink.AdDetails))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, r := range rows {
			kept[r.AdID] = true
		}
	}
	done, err := store.Done()
	if err != nil {
		return nil, err
	}
	var owed []int64
	for id, v := range done {
		if v == "ok" && !kept[id] {
			owed = append(owed, id)
		}
	}
	if err := store.Forget(owed...); err != nil {
		return nil, err
	}
	files, err := store.ShardFiles(sh.ID)
	if err != nil {
		return nil, err
	}
	for _, rec := range files {
		if isLost[rec.Part] {
			os.Remove(f.Abs(rec.Path))
			if err := store.UnregisterFile(sh.ID, rec.Path); err != nil {
				return nil, err
			}
		}
	}
	st.Status, st.Reason = checkpoint.StatusPending, "check --repair: details lost with their raw twins are owed again"
	if err := store.SaveShard(st); err != nil {
		return nil, err
	}
	return []string{fmt.Sprintf("%s: %d part(s) and their raw twins were lost; the details of %d ads are owed again", sh.ID, len(lost), len(owed))}, nil
}

func rawDamaged(paths []string, raw string) bool {
	for _, p := range paths {
		if p == raw {
			return true
		}
	}
	return false
}

// readRaw reads a raw twin back into the pages it was written from.
func readRaw(path string) ([]checkpoint.Page, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	zr, err := zstd.NewReader(fh)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	var pages []checkpoint.Page
	for sc.Scan() {
		p, err := checkpoint.ParseLine(sc.Bytes())
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", len(pages)+1, err)
		}
		p.Seq = len(pages)
		pages = append(pages, p)
	}
	if err := sc.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return pages, nil
}

// datasetsByTable maps a dataset's own table to it.
var datasetsByTable = map[string]*dataset{}

func init() {
	for _, ds := range []*dataset{adsDataset, detailsDataset, reportsDataset, contentDataset, advertisersDataset} {
		datasetsByTable[ds.table.Name] = ds
	}
}

// shardOfID is the shard a checkpoint id names, enough to find and write its
// files (table, partition, stem, dataset, provenance), without its request.
func shardOfID(id string) (*Shard, bool) {
	parts := strings.Split(id, "/")
	if len(parts) < 2 {
		return nil, false
	}
	ds, ok := datasetsByTable[parts[0]]
	if !ok {
		return nil, false
	}
	sh := &Shard{ID: id, Dataset: ds.name, ds: ds}
	switch {
	case ds.table.Partition == "" && len(parts) == 2:
		sh.Stem = parts[1]
	case ds.table.Partition != "" && len(parts) == 3:
		sh.Partition, sh.Stem = parts[1], parts[2]
	default:
		return nil, false
	}
	sh.Window = windowOfStem(sh.Stem)
	if ds == reportsDataset && strings.HasSuffix(sh.Stem, "_plan") {
		sh.plan, sh.Dataset = true, planDataset
	}
	return sh, true
}

// rewritePart writes part n of sh into folder f again from its pages (as
// its raw twin keeps them), as the crawl wrote it: repair, a rebuilt
// checkpoint and reparse all go through here.
func rewritePart(f folder.Folder, sh *Shard, n int, pages []checkpoint.Page) (*partWriter, written, error) {
	restoreSearch(sh, pages)
	dp, err := decodeStored(sh.ds, pages)
	if err != nil {
		return nil, written{}, err
	}
	pw := &partWriter{f: f, sh: sh, n: n}
	w, err := sh.ds.write(pw, sh, dp)
	return pw, w, err
}

// restoreSearch gives a shard that shardOfID made from its id alone the
// search term and type its requests carried (the id names a filtered search
// by a hash only), so that the rows rebuilt from its pages say what the
// crawl's said.
func restoreSearch(sh *Shard, pages []checkpoint.Page) {
	if len(pages) == 0 || (sh.ds != adsDataset && sh.ds != advertisersDataset) {
		return
	}
	var req struct {
		SearchTerm string `json:"search_term"`
		SearchType string `json:"search_type"`
	}
	if json.Unmarshal(pages[0].Request, &req) != nil {
		return
	}
	sh.Term = req.SearchTerm
	if sh.ds == adsDataset {
		sh.SearchType = req.SearchType
	}
}

// predecessors maps each slice that took over from another (a half of a
// short slice, the successor of a narrowed one) to the slice it took over
// from, as the checkpoint records them.
func predecessors(states []checkpoint.Shard) map[string]string {
	out := map[string]string{}
	for _, st := range states {
		for _, c := range st.Split {
			out[c] = st.ID
		}
	}
	return out
}

// Rebuild writes a new checkpoint for a folder whose checkpoint is lost, from
// what the folder holds: the job from manifest.json, and for every shard whose
// raw twins are there, its pages, parts and rows; a part whose Parquet file is
// missing is rebuilt from its raw twin. A shard whose last page still said
// has_more is left pending (the next harvest continues it from its first
// page); ad/detail answers are marked fetched. The day's request count cannot
// be known and starts again at zero.
func Rebuild(ctx context.Context, f folder.Folder) ([]string, error) {
	man, err := manifest.Read(f.Manifest())
	if err != nil {
		return nil, &DamageError{Err: err, Msg: fmt.Sprintf("cannot rebuild the checkpoint of %s: it needs %s to know the job (%v)", f.Dir, filepath.Base(f.Manifest()), err)}
	}
	store, err := checkpoint.Open(f.Checkpoint())
	if err != nil {
		return nil, err
	}
	defer store.Close()
	jb, _ := json.Marshal(man.Job)
	if err := store.SetMeta(metaJob, jb); err != nil {
		return nil, err
	}
	planned := map[string]*Shard{DetailsShardID: detailsShard()}
	for _, sh := range Plan(man.Job) {
		planned[sh.ID] = sh
	}
	// Raw twins, grouped by shard.
	type rawPart struct {
		n    int
		path string
	}
	byShard := map[string][]rawPart{}
	err = filepath.WalkDir(f.Raw(), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		stem, n, ok := folder.ParsePartName(d.Name())
		if !ok || !strings.HasSuffix(d.Name(), folder.RawExt) {
			return nil
		}
		rel, _ := filepath.Rel(f.Raw(), path)
		table := strings.Split(filepath.ToSlash(rel), "/")[0]
		t, ok := sink.Lookup(table)
		if !ok {
			return nil
		}
		id := shardID(t, folder.PartitionOf(t, path), stem)
		byShard[id] = append(byShard[id], rawPart{n, path})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var lines []string
	// A slice is known by the plan only once the reports it is cut from, or
	// the blind slice before it, are back: rebuild what the plan knows, ask
	// it again, and so on; what it never knows is rebuilt by its id alone.
	rebuilt := map[string]bool{}
	rebuild := func(id string, sh *Shard) error {
		rebuilt[id] = true
		parts := byShard[id]
		sort.Slice(parts, func(i, j int) bool { return parts[i].n < parts[j].n })
		st := checkpoint.Shard{ID: id, Dataset: sh.Dataset, RequestHash: sh.reqHash, Status: checkpoint.StatusPending, Planned: sh.Planned, Exact: sh.exact}
		if sh.Planned == "report" || sh.Planned == "half" {
			e := sh.Expected
			st.Expected = &e
		}
		var last checkpoint.Page
		var done []int64
		for i, p := range parts {
			if p.n != i {
				break // a gap: what follows cannot be trusted to belong
			}
			pages, err := readRaw(p.path)
			if err != nil {
				lines = append(lines, f.Rel(p.path)+": unreadable, left out ("+err.Error()+")")
				break
			}
			pw, w, err := rewritePart(f, sh, p.n, pages)
			if err != nil {
				return fmt.Errorf("rebuild %s part %d: %w", id, p.n, err)
			}
			sum, err := sink.FileSum(p.path)
			if err != nil {
				return err
			}
			pw.add(p.path, sh.ds.table.Name, true, int64(len(pages)), sum)
			st.Parts++
			st.Rows += w.rows
			st.Pages += len(pages)
			st.Requests += len(pages)
			if len(pages) > 0 {
				last = pages[len(pages)-1]
			}
			if sh.ds == detailsDataset {
				for _, pg := range pages {
					var req struct {
						AdID int64 `json:"ad_id"`
					}
					if json.Unmarshal(pg.Request, &req) == nil && req.AdID != 0 {
						done = append(done, req.AdID)
					}
				}
			}
			if err := store.CommitFlush(st, checkpoint.Flushed{Files: pw.files, Ads: w.ads}); err != nil {
				return err
			}
		}
		if st.Parts == 0 {
			return nil
		}
		if len(done) > 0 {
			if err := store.MarkDone(done...); err != nil {
				return err
			}
		}
		switch {
		case sh.ds == detailsDataset:
			// The owed ads are worked out again by the next harvest.
		case !sh.ds.paged:
			st.Status = checkpoint.StatusDone
		default:
			if env, err := decodeLastPage(sh, last); err == nil && !env.HasMore.V {
				st.Status = checkpoint.StatusDone
			}
		}
		st.Reason = "rebuilt by check --repair"
		if st.Status == checkpoint.StatusDone {
			var ids map[int64]bool
			if sh.ds == adsDataset {
				if ids, err = store.ShardAdIDs(id); err != nil {
					return err
				}
			}
			// The overlap with a predecessor went with the checkpoint.
			st.Harvested = sliceHarvested(sh.ds, st.Rows, ids, 0)
		}
		if err := store.RestoreShard(st, last.FetchedAt); err != nil {
			return err
		}
		lines = append(lines, fmt.Sprintf("%s: %d part(s), %d rows, %s", id, st.Parts, st.Rows, st.Status))
		return nil
	}
	p := newPlan(man.Job)
	for progress := true; progress; {
		progress = false
		known, _ := knownShards(f, store, p, 0, time.Now())
		for _, sh := range append(known, planned[DetailsShardID]) {
			if byShard[sh.ID] == nil || rebuilt[sh.ID] {
				continue
			}
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if err := rebuild(sh.ID, sh); err != nil {
				return nil, err
			}
			progress = true
		}
	}
	ids := make([]string, 0, len(byShard))
	for id := range byShard {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if rebuilt[id] {
			continue
		}
		sh, ok := shardOfID(id)
		if !ok {
			continue
		}
		if err := rebuild(id, sh); err != nil {
			return nil, err
		}
	}
	if err := store.MarkAdIndexed(); err != nil {
		return nil, err
	}
	if err := store.MarkFilesRegistered(); err != nil {
		return nil, err
	}
	lines = append(lines, fmt.Sprintf("a new checkpoint was written for %d shard(s) from %s (the day's request count starts again at zero)", len(ids), f.Rel(f.Raw())))
	return lines, nil
}

// windowOfStem reads the window from a stem such as "20240101-20240107_all".
func windowOfStem(stem string) job.Window {
	label, _, _ := strings.Cut(stem, "_")
	from, to, ok := strings.Cut(label, "-")
	if !ok {
		return job.Window{}
	}
	a, err1 := time.Parse("20060102", from)
	b, err2 := time.Parse("20060102", to)
	if err1 != nil || err2 != nil {
		return job.Window{}
	}
	return job.Window{From: a, To: b}
}

// decodeLastPage reads the paging fields of a shard's last page.
func decodeLastPage(sh *Shard, p checkpoint.Page) (api.Page, error) {
	env, err := api.DecodeEnvelope(p.Body)
	if err != nil {
		return api.Page{}, err
	}
	_, info, err := sh.ds.decode(env.Data)
	return info.page, err
}
