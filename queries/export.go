package queries

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
	"unicode"

	"adharvest/folder"
	"adharvest/manifest"
	"adharvest/sink"
)

// This file writes query results and whole output folders to files that need
// no adharvest to read: one query as Parquet (WriteParquet), and every table
// materialised into a self-contained DuckDB database and CSV files (Export).
// Every file is written under a temporary name in its own folder (sink's
// TempPrefix, so no glob of the views ever matches it), fsynced and renamed
// into place: a reader never sees half a file, and a failure leaves none. The
// CSV files of an export are published as one set (see csvSet). A process
// killed meanwhile leaves its temporary names behind; they carry its pid and
// host, and the next write of the same target removes them (leftovers.go).

// WriteParquet runs query, which must be exactly one statement that returns
// rows, and writes its result to path as a zstd-compressed Parquet file with
// DuckDB's COPY ... TO, atomically. It returns the number of rows written.
func (e *Engine) WriteParquet(ctx context.Context, query, path string) (rows int64, err error) {
	if e.db == nil {
		return 0, errors.New("query: engine is closed")
	}
	stmts := SplitStatements(query)
	if len(stmts) != 1 {
		return 0, fmt.Errorf("query: Parquet output takes exactly one query, got %d statements", len(stmts))
	}
	// Preparing the query as given first reports its errors with positions
	// in the user's text rather than in the COPY around it.
	stmt, err := e.db.PrepareContext(ctx, query)
	if err != nil {
		return 0, fmt.Errorf("query: %w", err)
	}
	stmt.Close()
	err = writeAtomicPath(path, true, func(tmp string) error {
		// The newline before ")" keeps a trailing "-- comment" from eating it.
		res, err := e.db.ExecContext(ctx, "COPY (\n"+stmts[0]+"\n) TO "+quoteLiteral(tmp)+" (FORMAT parquet, COMPRESSION zstd)")
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		rows, _ = res.RowsAffected()
		return nil
	})
	return rows, err
}

// ExportOptions says where Export writes.
type ExportOptions struct {
	// DuckDB is the database file to create; "" writes none.
	DuckDB string
	// CSVDir is a folder that receives one CSV file per table (with a header
	// row, written like `sql --format csv`); "" writes none. It is created if
	// needed.
	CSVDir string
	// Force replaces existing files; without it Export refuses (an error
	// matching fs.ErrExist) before writing anything.
	Force bool
	// RawCSV writes the CSV cells exactly as their values; by default text
	// cells that spreadsheets would run as formulas get a leading single
	// quote (see WriteOptions.RawCSV). The database is never changed.
	RawCSV bool
	// CSVNull is the cell written for NULL in the CSV files (see
	// WriteOptions.CSVNull): by default an empty field, while empty text is
	// written "".
	CSVNull string
	// Now is the export time recorded in harvest_manifest; zero means
	// time.Now.
	Now time.Time
}

// ExportedTable is one table Export wrote, with its row count.
type ExportedTable struct {
	Name    string
	Rows    int64
	Comment string
}

// ExportResult is what Export wrote.
type ExportResult struct {
	Tables []ExportedTable
	// NoManifest is set when the folder has no manifest.json: the harvest_*
	// tables were written with no rows.
	NoManifest bool
}

// ManifestTables are the tables Export adds next to the data tables, from
// DIR/manifest.json:
//
//   - harvest_manifest: one row: tool, version, job (the job as compact JSON
//     text), job_hash, api_url, created, updated_at, complete, runs (how
//     many), datasets (the per-dataset counts as JSON text), source_folder
//     (the absolute output folder exported), exported_at, and manifest (the
//     whole manifest.json as text, for fields added later);
//   - harvest_runs: one row per harvest run: run_id, started, ended, status,
//     message, requests;
//   - harvest_datasets: one row per dataset: dataset, shards, done, failed,
//     pending, rows, requests, min_requests.
var ManifestTables = []string{"harvest_manifest", "harvest_runs", "harvest_datasets"}

// ExportTableNames lists, in order, the tables Export writes: each view of
// sink.Tables as a table of the same name and its _all view as <table>_all,
// then field_completeness (CompletenessView) and ad_history (HistoryView),
// then ManifestTables.
func ExportTableNames() []string {
	var names []string
	for _, t := range sink.Tables {
		names = append(names, t.Name, t.Name+"_all")
	}
	names = append(names, CompletenessView, HistoryView)
	return append(names, ManifestTables...)
}

// exportAlias is the catalog name the database being built is attached as.
const exportAlias = "adharvest_export"

// Export materialises every view as a real table, plus the harvest_* tables
// (see ManifestTables), into a self-contained DuckDB database file and/or one
// CSV file per table. Tables are filled from the deduplicated views (named as
// the views) and the _all views (named <table>_all), in key order.
//
// The database is built by ATTACHing a new file under a temporary name next
// to opts.DuckDB and renamed into place once complete and closed. Without
// opts.Force an existing file is never replaced, even one that appears while
// the export runs. The CSV files are written into a temporary folder beside
// opts.CSVDir and published once the database is in place, as a set (see
// csvSet): the folder holds no export or a complete one. What an earlier,
// killed export of the same targets left behind is removed first.
func (e *Engine) Export(ctx context.Context, opts ExportOptions) (res ExportResult, err error) {
	if e.db == nil {
		return res, errors.New("export: engine is closed")
	}
	if opts.DuckDB == "" && opts.CSVDir == "" {
		return res, errors.New("export: nothing to write: give a database file or a CSV folder")
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if err := CheckExportTargets(opts); err != nil {
		return res, err
	}
	man, rawMan, err := readManifestFile(e.dir)
	if err != nil {
		return res, err
	}
	res.NoManifest = rawMan == nil
	var set *csvSet
	if opts.CSVDir != "" {
		if set, err = newCSVSet(opts.CSVDir); err != nil {
			return res, err
		}
		defer set.discard()
	}

	conn, err := e.db.Conn(ctx)
	if err != nil {
		return res, err
	}
	defer conn.Close()

	build := func(target string) (err error) {
		if _, err := conn.ExecContext(ctx, "ATTACH "+quoteLiteral(target)+" AS "+exportAlias); err != nil {
			return fmt.Errorf("export: attach %s: %w", target, err)
		}
		attached := true
		defer func() {
			if attached {
				if _, derr := conn.ExecContext(context.WithoutCancel(ctx), "DETACH "+exportAlias); err == nil && derr != nil {
					err = fmt.Errorf("export: close %s: %w", target, derr)
				}
			}
		}()
		if res.Tables, err = e.fillExport(ctx, conn, man, rawMan, opts.Now); err != nil {
			return err
		}
		if set != nil {
			if err := writeExportCSV(ctx, conn, set.stage, res.Tables, WriteOptions{RawCSV: opts.RawCSV, CSVNull: opts.CSVNull}); err != nil {
				return err
			}
		}
		if target != ":memory:" {
			if _, err := conn.ExecContext(ctx, "CHECKPOINT "+exportAlias); err != nil {
				return fmt.Errorf("export: checkpoint: %w", err)
			}
		}
		attached = false
		if _, err := conn.ExecContext(ctx, "DETACH "+exportAlias); err != nil {
			return fmt.Errorf("export: close %s: %w", target, err)
		}
		return nil
	}
	if opts.DuckDB == "" {
		err = build(":memory:")
	} else {
		err = writeAtomicPath(opts.DuckDB, opts.Force, build)
	}
	if err == nil && set != nil {
		err = set.publish()
	}
	return res, err
}

// CheckExportTargets refuses what Export would refuse before it writes
// anything: an existing database file or a CSV folder that already holds one
// of the CSV files unless opts.Force (an error matching fs.ErrExist), a CSV
// folder that is a file. A CSV folder in which a killed export left a partial
// set (see csvSet) is replaced without opts.Force: it holds no export.
func CheckExportTargets(opts ExportOptions) error {
	if opts.DuckDB != "" {
		if err := checkNewFile(opts.DuckDB, opts.Force); err != nil {
			return err
		}
	}
	if opts.CSVDir != "" {
		info, err := os.Stat(opts.CSVDir)
		switch {
		case err == nil && !info.IsDir():
			return fmt.Errorf("export: CSV folder %s is a file", opts.CSVDir)
		case err == nil:
			if opts.Force || partialCSVSet(opts.CSVDir) {
				return nil
			}
			for _, name := range ExportTableNames() {
				p := filepath.Join(opts.CSVDir, name+".csv")
				if _, err := os.Stat(p); err == nil {
					return fmt.Errorf("export: %s already exists (replace it with --force): %w", p, fs.ErrExist)
				}
			}
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("export: CSV folder: %w", err)
		}
	}
	return nil
}

// checkNewFile checks that path can be created: its folder exists, and it
// does not exist unless force (then it must be a regular file).
func checkNewFile(path string, force bool) error {
	info, err := os.Stat(path)
	switch {
	case err == nil && info.IsDir():
		return fmt.Errorf("%s is a folder: %w", path, fs.ErrExist)
	case err == nil && !force:
		return fmt.Errorf("%s already exists (replace it with --force): %w", path, fs.ErrExist)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	dir := filepath.Dir(path)
	if info, err := os.Stat(dir); err != nil || !info.IsDir() {
		return fmt.Errorf("folder %s of %s does not exist: %w", dir, filepath.Base(path), fs.ErrNotExist)
	}
	return nil
}

// fillExport creates and fills every table in the attached database.
func (e *Engine) fillExport(ctx context.Context, conn *sql.Conn, man *manifest.Manifest, rawMan []byte, now time.Time) ([]ExportedTable, error) {
	var out []ExportedTable
	add := func(name, comment, create string) error {
		if _, err := conn.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		target := exportAlias + ".main." + quoteIdent(name)
		if _, err := conn.ExecContext(ctx, "COMMENT ON TABLE "+target+" IS "+quoteLiteral(comment)); err != nil {
			return fmt.Errorf("export %s: %w", name, err)
		}
		out = append(out, ExportedTable{Name: name, Comment: comment})
		return nil
	}
	for _, t := range sink.Tables {
		keys := make([]string, len(t.Key))
		for i, k := range t.Key {
			keys[i] = quoteIdent(k)
		}
		order := strings.Join(keys, ", ")
		key := strings.Join(t.Key, ", ")
		allOrder := order + ", fetched_at, run_id, shard_id"
		if t.Derived {
			allOrder = order // written whole from the checkpoint: no provenance
		}
		for _, v := range []struct{ name, order, comment string }{
			{t.Name, order, fmt.Sprintf("adharvest %s: one row per (%s), the most recent fetch", t.Name, key)},
			{t.Name + "_all", allOrder, fmt.Sprintf("adharvest %s_all: every fetched row of %s, with its provenance", t.Name, t.Name)},
		} {
			create := "CREATE TABLE " + exportAlias + ".main." + quoteIdent(v.name) + " AS SELECT * FROM " + quoteIdent(v.name) + " ORDER BY " + v.order
			if err := add(v.name, v.comment, create); err != nil {
				return nil, err
			}
		}
	}
	if err := add(CompletenessView, "adharvest field_completeness: per dataset, field and country, the rows of the table and how many carry the field, present and not empty",
		"CREATE TABLE "+exportAlias+".main."+CompletenessView+" AS SELECT * FROM "+CompletenessView); err != nil {
		return nil, err
	}
	if err := add(HistoryView, "adharvest ad_history: each ad's status over time, one row per state, with the run that first observed it",
		"CREATE TABLE "+exportAlias+".main."+HistoryView+" AS SELECT * FROM "+HistoryView+" ORDER BY ad_id, first_observed_at"); err != nil {
		return nil, err
	}
	if err := e.exportManifest(ctx, conn, man, rawMan, now, add); err != nil {
		return nil, err
	}
	for i := range out {
		q := "SELECT count(*) FROM " + exportAlias + ".main." + quoteIdent(out[i].Name)
		if err := conn.QueryRowContext(ctx, q).Scan(&out[i].Rows); err != nil {
			return nil, fmt.Errorf("export %s: %w", out[i].Name, err)
		}
	}
	return out, nil
}

// readManifestFile reads the folder's manifest, and its bytes for the
// harvest_manifest.manifest column (so fields of other versions are kept as
// text); a missing file gives nil, nil.
func readManifestFile(dir string) (*manifest.Manifest, []byte, error) {
	path := folder.New(dir).Manifest()
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("export: %w", err)
	}
	m, err := manifest.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("export: %s: %w", path, err)
	}
	return &m, raw, nil
}

func (e *Engine) exportManifest(ctx context.Context, conn *sql.Conn, m *manifest.Manifest, raw []byte, now time.Time,
	add func(name, comment, create string) error) error {
	prefix := "CREATE TABLE " + exportAlias + ".main."
	if err := add("harvest_manifest", "adharvest manifest.json of the exported folder: one row (job and counts as JSON text)", prefix+`harvest_manifest (
		tool VARCHAR, version VARCHAR, job VARCHAR, job_hash VARCHAR, api_url VARCHAR,
		created TIMESTAMPTZ, updated_at TIMESTAMPTZ, complete BOOLEAN, runs INTEGER,
		datasets VARCHAR, source_folder VARCHAR, exported_at TIMESTAMPTZ, manifest VARCHAR)`); err != nil {
		return err
	}
	if err := add("harvest_runs", "adharvest harvest runs of the exported folder, from manifest.json: one row per run", prefix+`harvest_runs (
		run_id VARCHAR, started TIMESTAMPTZ, ended TIMESTAMPTZ, status VARCHAR, message VARCHAR, requests BIGINT)`); err != nil {
		return err
	}
	if err := add("harvest_datasets", "adharvest shard and row counts per dataset, from manifest.json: one row per dataset", prefix+`harvest_datasets (
		dataset VARCHAR, shards BIGINT, done BIGINT, failed BIGINT, pending BIGINT, "rows" BIGINT, requests BIGINT, min_requests BIGINT)`); err != nil {
		return err
	}
	if m == nil {
		return nil
	}
	insert := func(table string, args ...any) error {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
		_, err := conn.ExecContext(ctx, "INSERT INTO "+exportAlias+".main."+table+" VALUES ("+marks+")", args...)
		if err != nil {
			return fmt.Errorf("export %s: %w", table, err)
		}
		return nil
	}
	job, err := json.Marshal(m.Job)
	if err != nil {
		return fmt.Errorf("export: manifest job: %w", err)
	}
	datasets, err := json.Marshal(m.Datasets)
	if err != nil {
		return err
	}
	if err := insert("harvest_manifest", m.Tool, m.Version, string(job), m.JobHash, m.APIURL, timeArg(m.Created), timeArg(m.UpdatedAt),
		m.Complete, len(m.Runs), string(datasets), e.dir, now.UTC(), string(raw)); err != nil {
		return err
	}
	for _, r := range m.Runs {
		if err := insert("harvest_runs", r.RunID, timeArg(r.Started), timeArg(r.Ended), r.Status, r.Message, r.Requests); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(m.Datasets))
	for n := range m.Datasets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := m.Datasets[n]
		if err := insert("harvest_datasets", n, d.Shards, d.Done, d.Failed, d.Pending, d.Rows, d.Requests, d.MinRequests); err != nil {
			return err
		}
	}
	return nil
}

// timeArg is a nullable timestamp parameter: the zero time is NULL.
func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// writeExportCSV writes one CSV file per exported table into dir (a csvSet's
// stage), formatted as Write's csv format.
func writeExportCSV(ctx context.Context, conn *sql.Conn, dir string, tables []ExportedTable, wopts WriteOptions) error {
	for _, t := range tables {
		path := filepath.Join(dir, t.Name+".csv")
		err := sink.WriteFileAtomic(path, func(w io.Writer) error {
			rows, err := conn.QueryContext(ctx, "SELECT * FROM "+exportAlias+".main."+quoteIdent(t.Name))
			if err != nil {
				return err
			}
			return WriteWith(w, "csv", rows, wopts)
		})
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	return nil
}

// csvSet is the set of CSV files of one export, written into a temporary
// folder beside its destination and published only when complete, so that
// the destination never holds part of a set under the final names, even
// when the process is killed: a spreadsheet user cannot tell a CSV file that
// a kill cut short, or a folder missing one table, from a complete export.
//
// Publishing renames the temporary folder into place when the destination
// does not exist; replaces it (two renames, during which it is briefly
// absent) when it holds nothing but export CSV files and incompleteness
// markers; and otherwise, when the folder holds files of its own, moves the
// files into it one by one under a marker ".tmp-incomplete.<owner>-<n>"
// that stays if the move is cut short, so that the next export knows the set
// is partial and replaces it without --force.
type csvSet struct {
	dir   string // the destination, absolute
	stage string // the temporary folder beside it; "" once published
}

// markerPrefix starts the name of the marker of a CSV set being moved into
// a folder of its own (see csvSet).
const markerPrefix = sink.TempPrefix + "incomplete."

// stagePrefix starts the temporary names beside the CSV folder dir.
func stagePrefix(dir string) string { return sink.TempPrefix + filepath.Base(dir) + "." }

// newCSVSet makes the temporary folder of a CSV set for dir, and removes
// the ones that killed exports left there.
func newCSVSet(dir string) (*csvSet, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("export: CSV folder: %w", err)
	}
	parent := filepath.Dir(abs)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return nil, fmt.Errorf("export: CSV folder: %w", err)
	}
	sweepLeftovers(parent, stagePrefix(abs))
	stage, err := os.MkdirTemp(parent, tempPattern(stagePrefix(abs)))
	if err != nil {
		// An existing folder that one may write into, in a parent one may
		// not: the set is written inside it, then moved in (see merge).
		if info, serr := os.Stat(abs); serr == nil && info.IsDir() {
			sweepLeftovers(abs, stagePrefix(abs))
			stage, err = os.MkdirTemp(abs, tempPattern(stagePrefix(abs)))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("export: CSV folder: %w", err)
	}
	if err := os.Chmod(stage, 0o755); err != nil { // the folder users get
		os.Remove(stage)
		return nil, fmt.Errorf("export: CSV folder: %w", err)
	}
	return &csvSet{dir: abs, stage: stage}, nil
}

// discard removes the temporary folder of a set that was not published.
func (c *csvSet) discard() {
	if c.stage != "" {
		os.RemoveAll(c.stage)
		c.stage = ""
	}
}

// publish puts the complete set in place (see csvSet).
func (c *csvSet) publish() error {
	parent := filepath.Dir(c.dir)
	info, err := os.Lstat(c.dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.Rename(c.stage, c.dir); err == nil {
			c.stage = ""
			return syncDir(parent)
		}
		// Created meanwhile: go on with what is there now.
		if info, err = os.Lstat(c.dir); err != nil {
			return fmt.Errorf("export: CSV folder: %w", err)
		}
	case err != nil:
		return fmt.Errorf("export: CSV folder: %w", err)
	}
	// The working folder is not swapped: whoever runs the export from
	// inside it would be left in a deleted folder.
	if wd, _ := os.Getwd(); info.IsDir() && wd != c.dir && onlyExportFiles(c.dir) {
		if done, err := c.swap(); done || err != nil {
			return err
		}
	}
	return c.merge()
}

// onlyExportFiles reports whether dir holds nothing but export CSV files
// and markers: a folder an export may replace as a whole.
func onlyExportFiles(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	ours := map[string]bool{}
	for _, n := range ExportTableNames() {
		ours[n+".csv"] = true
	}
	for _, e := range ents {
		if !ours[e.Name()] && !strings.HasPrefix(e.Name(), markerPrefix) {
			return false
		}
	}
	return true
}

// swap replaces the destination folder by the set's folder. done is false
// when the folder could not be moved aside (a mount point, say); nothing
// has changed then.
func (c *csvSet) swap() (done bool, err error) {
	parent := filepath.Dir(c.dir)
	// An empty folder with a temporary name of ours, which the destination
	// replaces: rename(2) replaces an empty folder, atomically. (os.Rename
	// refuses to, hence syscall.Rename.)
	old, err := os.MkdirTemp(parent, tempPattern(stagePrefix(c.dir)))
	if err != nil {
		return false, nil
	}
	if err := syscall.Rename(c.dir, old); err != nil {
		os.Remove(old)
		return false, nil
	}
	if err := os.Rename(c.stage, c.dir); err != nil {
		if rerr := os.Rename(old, c.dir); rerr != nil {
			return true, fmt.Errorf("export: CSV folder %s: %w (the previous files are in %s)", c.dir, err, old)
		}
		return true, fmt.Errorf("export: CSV folder %s: %w", c.dir, err)
	}
	c.stage = ""
	err = syncDir(parent)
	os.RemoveAll(old)
	return true, err
}

// merge moves the set's files into a destination folder that holds files of
// its own, under a marker.
func (c *csvSet) merge() error {
	marker, err := os.CreateTemp(c.dir, tempPattern(markerPrefix))
	if err != nil {
		return fmt.Errorf("export: CSV folder: %w", err)
	}
	marker.Close()
	if err := syncDir(c.dir); err != nil {
		return err
	}
	names := make([]string, 0, len(ExportTableNames()))
	for _, n := range ExportTableNames() {
		names = append(names, n+".csv")
	}
	// The previous set goes first, so that a cut-short move leaves fewer
	// files, never old and new ones side by side.
	for _, n := range names {
		if err := os.Remove(filepath.Join(c.dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("export: %w", err)
		}
	}
	for _, n := range names {
		if err := os.Rename(filepath.Join(c.stage, n), filepath.Join(c.dir, n)); err != nil {
			return fmt.Errorf("export: %w", err)
		}
	}
	if err := syncDir(c.dir); err != nil {
		return err
	}
	os.Remove(marker.Name())
	sweepLeftovers(c.dir, markerPrefix) // markers of killed exports: the set is whole now
	return syncDir(c.dir)
}

// partialCSVSet reports whether a killed export left the CSV folder dir
// with a partial set (its marker, whose owner is gone).
func partialCSVSet(dir string) bool {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if leftover(dir, e.Name(), markerPrefix) {
			return true
		}
	}
	return false
}

func syncDir(dir string) error {
	if err := sink.SyncDir(dir); err != nil {
		return fmt.Errorf("export: sync %s: %w", dir, err)
	}
	return nil
}

// WriteFileAtomic writes path through write, like sink.WriteFileAtomic
// (fsynced, renamed into place, never half a file), but under a temporary
// name that carries its owner (see leftovers.go), so that the next write of
// path removes what a killed one left. adharvest sql --output uses it.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	return writeAtomicPath(path, true, func(tmp string) error {
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		bw := bufio.NewWriter(f)
		err = write(bw)
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
}

// writeAtomicPath creates path through write, which receives a temporary
// file name in the same folder to fill (the file does not exist yet). The
// result is fsynced and renamed into place, and the folder fsynced. Unless
// replace, an existing path is never replaced (an error matching
// fs.ErrExist); on any error the temporary file is removed and path is left
// as it was.
func writeAtomicPath(path string, replace bool, write func(tmp string) error) (err error) {
	dir := filepath.Dir(path)
	// The temporary name carries its owner, so that the next write of path
	// removes what a killed one left (DuckDB's file and its .wal).
	prefix := sink.TempPrefix + filepath.Base(path) + "."
	sweepLeftovers(dir, prefix)
	f, err := os.CreateTemp(dir, tempPattern(prefix))
	if err != nil {
		return fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	f.Close()
	// DuckDB creates the file itself, and refuses an empty one as a database.
	os.Remove(tmp)
	defer func() {
		if err != nil {
			os.Remove(tmp)
			os.Remove(tmp + ".wal")
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if f, err = os.OpenFile(tmp, os.O_RDWR, 0); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if replace {
		if err = os.Rename(tmp, path); err != nil {
			return fmt.Errorf("rename into %s: %w", path, err)
		}
	} else {
		// A hard link fails if path exists, atomically; then drop the
		// temporary name. Where links are not supported, check and rename.
		if lerr := os.Link(tmp, path); lerr == nil {
			os.Remove(tmp)
		} else if errors.Is(lerr, fs.ErrExist) {
			err = fmt.Errorf("%s already exists (replace it with --force): %w", path, fs.ErrExist)
			return err
		} else {
			if _, serr := os.Stat(path); serr == nil {
				err = fmt.Errorf("%s already exists (replace it with --force): %w", path, fs.ErrExist)
				return err
			}
			if err = os.Rename(tmp, path); err != nil {
				return fmt.Errorf("rename into %s: %w", path, err)
			}
		}
	}
	return sink.SyncDir(dir)
}

// SplitStatements splits a SQL script into its statements at the semicolons
// that end them, ignoring semicolons inside string literals ('…', E'…',
// $$…$$, $tag$…$tag$), quoted identifiers ("…") and comments (-- and /* */,
// nested). Statements are returned without their terminating semicolon and
// trimmed; statements that hold only blanks and comments are dropped. The
// last statement needs no semicolon.
func SplitStatements(script string) []string {
	stmts, rest := splitSQL(script)
	if rest != "" {
		stmts = append(stmts, rest)
	}
	return stmts
}

// SplitComplete is SplitStatements for input that arrives line by line: it
// returns the statements ended by a semicolon, and the unfinished rest
// (trimmed, "" when it holds only blanks and comments).
func SplitComplete(script string) (stmts []string, rest string) {
	return splitSQL(script)
}

func splitSQL(s string) (stmts []string, rest string) {
	start := 0     // start of the current statement
	code := false  // the current statement has something besides comments
	i := 0         // byte position
	depth := 0     // block comment nesting
	var tag string // open dollar-quote tag, "$$" or "$name$"
	const (
		normal = iota
		single
		escaped // E'…', where backslash escapes
		double
		line
		block
		dollar
	)
	state := normal
	for i < len(s) {
		c := s[i]
		switch state {
		case normal:
			switch {
			case c == ';':
				if code {
					stmts = append(stmts, strings.TrimSpace(s[start:i]))
				}
				start, code = i+1, false
			case c == '\'':
				code = true
				state = single
				if i > 0 && (s[i-1] == 'e' || s[i-1] == 'E') && (i == 1 || !isIdentByte(s[i-2])) {
					state = escaped
				}
			case c == '"':
				code, state = true, double
			case c == '-' && i+1 < len(s) && s[i+1] == '-':
				state = line
				i++
			case c == '/' && i+1 < len(s) && s[i+1] == '*':
				state, depth = block, 1
				i++
			case c == '$' && (i == 0 || !isIdentByte(s[i-1])):
				code = true
				if t, ok := dollarTag(s[i:]); ok {
					tag, state = t, dollar
					i += len(t) - 1
				}
			case !unicode.IsSpace(rune(c)):
				code = true
			}
		case single:
			if c == '\'' {
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					state = normal
				}
			}
		case escaped:
			switch c {
			case '\\':
				i++
			case '\'':
				if i+1 < len(s) && s[i+1] == '\'' {
					i++
				} else {
					state = normal
				}
			}
		case double:
			if c == '"' {
				if i+1 < len(s) && s[i+1] == '"' {
					i++
				} else {
					state = normal
				}
			}
		case line:
			if c == '\n' {
				state = normal
			}
		case block:
			switch {
			case c == '/' && i+1 < len(s) && s[i+1] == '*':
				depth++
				i++
			case c == '*' && i+1 < len(s) && s[i+1] == '/':
				depth--
				i++
				if depth == 0 {
					state = normal
				}
			}
		case dollar:
			if c == '$' && strings.HasPrefix(s[i:], tag) {
				i += len(tag) - 1
				state = normal
			}
		}
		i++
	}
	if code {
		rest = strings.TrimSpace(s[start:])
	}
	return stmts, rest
}

// dollarTag returns the "$tag$" that s starts with, if any.
func dollarTag(s string) (string, bool) {
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '$':
			return s[:j+1], true
		case isIdentByte(c) && !(j == 1 && c >= '0' && c <= '9'):
		default:
			return "", false
		}
	}
	return "", false
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// HistoryView is the view of each ad's status over time, built on
// ad_observations (views/ad_observations.sql) rather than a table of its own.
const HistoryView = "ad_history"
