package queries

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"adharvest/folder"
	"adharvest/manifest"
	"adharvest/sink"
)

// FolderError is an output folder that cannot be queried: it does not exist,
// is not a folder, or holds no harvest. It is the user's mistake (the wrong
// --out), never the data's: commands report it as a usage error (exit 2) in
// one line.
type FolderError struct {
	Dir string
	Msg string // the whole message, naming Dir
	Err error  // fs.ErrNotExist when Dir does not exist; nil otherwise
}

func (e *FolderError) Error() string { return e.Msg }
func (e *FolderError) Unwrap() error { return e.Err }

// ErrNoHarvest matches (errors.Is) the FolderError of a folder that exists
// but holds no harvest (or is a file).
var ErrNoHarvest = errors.New("folder holds no harvest")

// Is makes errors.Is(err, ErrNoHarvest) true for a folder without a harvest.
func (e *FolderError) Is(target error) bool {
	return target == ErrNoHarvest && e.Err == nil
}

// How far CheckFolder looks around a folder that holds no harvest for the
// one that was meant: up to folderSearchUp folders above it (a table folder
// is one below the harvest, a partition folder two) and the first
// folderSearchDown folders in it (a folder of harvests).
const (
	folderSearchUp   = 3
	folderSearchDown = 200
)

// CheckFolder reports, as a *FolderError, why dir cannot be queried: it does
// not exist, it is not a folder, or it holds no harvest. Open itself accepts
// any folder (its views are then empty), so that a harvest whose tables have
// no file yet can still be queried and reported on; commands that answer
// questions about a harvest call CheckFolder first, so that the wrong folder
// (its parent, one of its table folders, an empty folder) is refused rather
// than answered with empty tables.
//
// A folder holds a harvest when it has any of:
//
//   - the crawl's checkpoint (_adharvest/checkpoint.db), written when a
//     harvest starts, before any data;
//   - a manifest.json written by adharvest (its "tool" is adharvest);
//   - a committed data file of any table (<table>/<partition>=<value>/*.parquet
//     or <table>/*.parquet), as in a folder copied without its crawl state.
//
// When dir holds none, the message names the harvest dir is inside of, or
// the harvests dir holds, if there are any.
func CheckFolder(dir string) error {
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &FolderError{Dir: dir, Msg: dir + " does not exist", Err: fs.ErrNotExist}
	case err != nil:
		return &FolderError{Dir: dir, Msg: err.Error()}
	case !info.IsDir():
		return &FolderError{Dir: dir, Msg: dir + " is a file, not a harvest folder"}
	}
	if HoldsHarvest(dir) {
		if _, err := os.Stat(folder.New(dir).ReparseOld()); err == nil {
			// Some tables are the new ones, some still the old: reading
			// them now would mix two parses.
			return &FolderError{Dir: dir, Msg: fmt.Sprintf("%s: a reparse was interrupted while it moved the new tables into place; finish it with `adharvest reparse --out %s`", dir, dir)}
		}
		return nil
	}
	msg := fmt.Sprintf("%s holds no harvest (no %s, no adharvest %s and no table files)",
		dir, folder.CheckpointName(), filepath.Base(folder.New(dir).Manifest()))
	if up := harvestAbove(dir); up != "" {
		msg = fmt.Sprintf("%s holds no harvest: it is a folder inside the harvest %s; give that folder instead", dir, up)
	} else if down := harvestsBelow(dir); len(down) > 0 {
		msg = fmt.Sprintf("%s holds no harvest, but %s in it does; give that folder instead", dir, down[0])
		if len(down) > 1 {
			msg = fmt.Sprintf("%s holds no harvest, but %d folders in it do (%s, …); give one of them instead", dir, len(down), down[0])
		}
	}
	return &FolderError{Dir: dir, Msg: msg}
}

// HoldsHarvest reports whether dir holds a harvest (see CheckFolder).
func HoldsHarvest(dir string) bool {
	f := folder.New(dir)
	if fi, err := os.Stat(f.Checkpoint()); err == nil && fi.Mode().IsRegular() {
		return true
	}
	if m, err := manifest.Read(f.Manifest()); err == nil && m.Tool == "adharvest" {
		return true
	}
	for _, t := range sink.Tables {
		if files, err := filepath.Glob(f.Glob(t)); err == nil && len(files) > 0 {
			return true
		}
	}
	return false
}

// harvestAbove is the closest folder above dir that holds a harvest, or "".
func harvestAbove(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for range folderSearchUp {
		parent := filepath.Dir(abs)
		if parent == abs {
			return ""
		}
		if HoldsHarvest(parent) {
			// Spelt like dir: relative when dir was.
			if !filepath.IsAbs(dir) {
				if wd, err := os.Getwd(); err == nil {
					if rel, err := filepath.Rel(wd, parent); err == nil {
						return rel
					}
				}
			}
			return parent
		}
		abs = parent
	}
	return ""
}

// harvestsBelow lists the folders directly in dir that hold a harvest.
func harvestsBelow(dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var out []string
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		if n++; n > folderSearchDown {
			break
		}
		if sub := filepath.Join(dir, e.Name()); HoldsHarvest(sub) {
			out = append(out, sub)
		}
	}
	return out
}
