// Package folder is the layout of an output folder, and its only owner: where
// each table's parts and their raw twins live and how they are named, where the
// crawl state, the manifest and the report go, the globs that read a table, and
// what --restart removes. Nothing else spells these names, so the layout can be
// read in one place:
//
//	DIR/
//	  manifest.json                        what was asked, by which tool, what landed
//	  report.html                          adharvest report
//	  <table>/<partition>=<value>/<stem>-pNNNNN.parquet
//	  <table>/<stem>-pNNNNN.parquet        (tables without a partition)
//	  raw/<same path>.jsonl.zst            the responses each part was decoded from
//	  _adharvest/checkpoint.db, lock       crawl state (not data)
//	  _adharvest/reparse/<table>/…         tables a reparse is writing, until they replace the old
//	  _adharvest/reparse-old/<table>/…     the tables they replaced, until the swap is over
package folder

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"adharvest/sink"
)

// Names inside an output folder.
const (
	stateDir     = "_adharvest"
	rawDir       = "raw"
	manifestFile = "manifest.json"
	reportFile   = "report.html"
	checkpointDB = "checkpoint.db"
	lockFile     = "lock"
	reparseDir   = "reparse"
	reparseOld   = "reparse-old"

	// PartExt and RawExt end the names of a part and of its raw twin.
	PartExt = ".parquet"
	RawExt  = ".jsonl.zst"
)

// Folder is one output folder.
type Folder struct{ Dir string }

// New returns the layout of the output folder dir.
func New(dir string) Folder { return Folder{Dir: dir} }

// State is the folder of crawl state.
func (f Folder) State() string { return filepath.Join(f.Dir, stateDir) }

// StateName is the name of the crawl-state folder, for messages.
func StateName() string { return stateDir }

// Checkpoint is the crawl's bbolt database.
func (f Folder) Checkpoint() string { return filepath.Join(f.Dir, stateDir, checkpointDB) }

// CheckpointName is the checkpoint's path relative to the folder, for messages.
func CheckpointName() string { return filepath.Join(stateDir, checkpointDB) }

// Lock is the lock file that keeps a second harvest off the folder.
func (f Folder) Lock() string { return filepath.Join(f.Dir, stateDir, lockFile) }

// ReparseStage is where a reparse writes the new tables, laid out as the
// folder itself, before they replace the old ones.
func (f Folder) ReparseStage() string { return filepath.Join(f.Dir, stateDir, reparseDir) }

// ReparseOld is where the tables a reparse replaced wait for the end of the
// swap.
func (f Folder) ReparseOld() string { return filepath.Join(f.Dir, stateDir, reparseOld) }

// Manifest is manifest.json.
func (f Folder) Manifest() string { return filepath.Join(f.Dir, manifestFile) }

// Report is where adharvest report writes by default.
func (f Folder) Report() string { return filepath.Join(f.Dir, reportFile) }

// Raw is the root of the raw twins.
func (f Folder) Raw() string { return filepath.Join(f.Dir, rawDir) }

// TableDir is a table's folder.
func (f Folder) TableDir(t sink.Table) string { return filepath.Join(f.Dir, t.Name) }

// PartitionDir is the folder of one partition value ("country_code=FR"), or the
// table folder when the table is not partitioned.
func (f Folder) PartitionDir(t sink.Table, value string) string {
	return partitionDir(f.Dir, t, value)
}

func partitionDir(root string, t sink.Table, value string) string {
	if t.Partition == "" {
		return filepath.Join(root, t.Name)
	}
	return filepath.Join(root, t.Name, t.Partition+"="+value)
}

// RawTableDir is the folder of a table's raw twins.
func (f Folder) RawTableDir(t sink.Table) string { return filepath.Join(f.Dir, rawDir, t.Name) }

// PartName is the file name of part n of a stem.
func PartName(stem string, n int, ext string) string {
	return fmt.Sprintf("%s-p%05d%s", stem, n, ext)
}

var partRE = regexp.MustCompile(`^(.+)-p(\d{5,})(\.parquet|\.jsonl\.zst)$`)

// ParsePartName splits a part's file name into its stem and number; ok is
// false for files that do not follow the naming.
func ParsePartName(name string) (stem string, n int, ok bool) {
	m := partRE.FindStringSubmatch(name)
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(m[2])
	return m[1], n, err == nil
}

// Part is the path of part n of a stem in table t's partition.
func (f Folder) Part(t sink.Table, partition, stem string, n int) string {
	return filepath.Join(f.PartitionDir(t, partition), PartName(stem, n, PartExt))
}

// RawPart is the path of the raw twin of a part.
func (f Folder) RawPart(t sink.Table, partition, stem string, n int) string {
	return filepath.Join(partitionDir(f.Raw(), t, partition), PartName(stem, n, RawExt))
}

// PartitionOf reads the partition value from the folder a part lives in
// ("…/country_code=FR/x.parquet" gives "FR").
func PartitionOf(t sink.Table, path string) string {
	if t.Partition == "" {
		return ""
	}
	base := filepath.Base(filepath.Dir(path))
	if v, ok := cutPrefix(base, t.Partition+"="); ok {
		return v
	}
	return ""
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// Glob is the filepath.Glob pattern that matches exactly a table's committed
// data files under root (the folder itself, or a placeholder folder with the
// same layout). Temporary files start with sink.TempPrefix and end in a
// random suffix, so they never match.
//
// root is a name, not a pattern: an output folder may legitimately be called
// "run[1]" or "a*b", and read as a pattern such a name matches a sibling
// folder ("run1") or nothing at all. Its pattern characters are escaped, so
// only the table's own layout below root is matched by pattern.
func Glob(root string, t sink.Table) string { return tableGlob(escapeGlob(root), t) }

// Glob is the pattern of a table's committed data files in this folder.
func (f Folder) Glob(t sink.Table) string { return Glob(f.Dir, t) }

// DuckDBGlob is Glob for DuckDB's file readers (read_parquet and the like),
// whose glob syntax differs from filepath.Match's: it has no escape
// character, so each pattern character of root is written as a one-character
// class ("[[]", "[*]", "[?]"), and it splits paths at backslashes on every
// system. A backslash in a folder name (legal outside Windows) therefore
// cannot be spelt at all; it is matched by "?", and exact is false: the
// pattern may then also match a sibling folder that differs from root in that
// character only, and the caller must keep the files under TableDir alone
// (by their filename).
func DuckDBGlob(root string, t sink.Table) (pattern string, exact bool) {
	var b strings.Builder
	exact = true
	for _, r := range root {
		switch {
		case r == '[' || r == '*' || r == '?':
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		case r == '\\' && filepath.Separator != '\\':
			b.WriteByte('?')
			exact = false
		default:
			b.WriteRune(r)
		}
	}
	return tableGlob(b.String(), t), exact
}

// tableGlob is the pattern of a table's files below an already escaped root.
func tableGlob(root string, t sink.Table) string {
	if t.Partition == "" {
		return filepath.Join(root, t.Name, "*"+PartExt)
	}
	return filepath.Join(root, t.Name, t.Partition+"=*", "*"+PartExt)
}

// escapeGlob escapes the characters filepath.Match treats as special. On
// Windows, where the backslash separates folders instead of escaping, and
// where "*" and "?" cannot be in a name, "[" is written as the class "[[]".
func escapeGlob(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case filepath.Separator == '\\' && (r == '[' || r == '*' || r == '?'):
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		case filepath.Separator != '\\' && (r == '[' || r == '*' || r == '?' || r == '\\'):
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Artifacts lists everything a harvest writes into the folder besides its
// crawl state, for --restart to remove: every table folder, the raw twins,
// the manifest and the report (which describes the data being discarded).
func (f Folder) Artifacts() []string {
	out := make([]string, 0, len(sink.Tables)+3)
	for _, t := range sink.Tables {
		if t.Name == sink.Media.Name {
			// The media table's folder is the media store: creatives whose
			// links have expired cannot be fetched again, so a restart
			// keeps them (and the media states in the checkpoint, which a
			// reset keeps too) and drops only the table.
			out = append(out, filepath.Join(f.TableDir(t), t.Name+PartExt))
			continue
		}
		out = append(out, f.TableDir(t))
	}
	return append(out, f.Raw(), f.Manifest(), f.Report())
}
