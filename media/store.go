package media

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/sink"
)

// sweepTemp empties the folder of downloads in flight, which only the
// holder of the folder's lock writes: what is there was left by a process
// that died.
func sweepTemp(f folder.Folder) error {
	entries, err := os.ReadDir(f.MediaTemp())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := os.RemoveAll(filepath.Join(f.MediaTemp(), e.Name())); err != nil {
			return fmt.Errorf("sweep %s: %w", f.Rel(f.MediaTemp()), err)
		}
	}
	return nil
}

// Problem is one thing wrong with the media store, naming the file relative
// to the output folder.
type Problem struct {
	Path string
	What string
}

func (p Problem) String() string { return p.Path + ": " + p.What }

// Problem kinds.
const (
	ProblemMissing  = "missing (the checkpoint says it was stored)"
	ProblemCorrupt  = "damaged: its SHA-256 is not its name"
	ProblemBadName  = "not a stored file: its name is not a SHA-256"
	ProblemTempFile = "temporary file of an interrupted download"
)

// VerifyReport is what Verify found.
type VerifyReport struct {
	// Files counts the stored files read, Bytes their size.
	Files    int
	Bytes    int64
	Problems []Problem
	// Repaired lists what a repair did, one line each.
	Repaired []string
}

// Verify reads every file of the media store and checks that its SHA-256 is
// its name, and that every file an ok state names is there. With repair, the
// states of URLs whose file is missing or damaged are dropped, so that the
// next media run fetches them again while their links work, and damaged
// files and temporary files are deleted (a damaged file's name promises
// bytes it does not hold). Files that are not named like stored files are
// reported, never deleted. store may be
// nil (then only the files are checked). The caller holds the folder's lock
// for a repair.
func Verify(ctx context.Context, f folder.Folder, store *checkpoint.Store, repair bool) (VerifyReport, error) {
	var rep VerifyReport
	bad := map[string]bool{} // relative paths missing or damaged
	root := f.MediaStore()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			return nil
		}
		rel := f.Rel(p)
		if filepath.Dir(p) == root {
			// The media table's own file (and its temporary twin).
			if strings.HasPrefix(d.Name(), sink.TempPrefix) && !strings.HasPrefix(d.Name(), sink.TempPrefix+sink.Media.Name) {
				rep.Problems = append(rep.Problems, Problem{Path: rel, What: ProblemTempFile})
			}
			return nil
		}
		if strings.HasPrefix(d.Name(), sink.TempPrefix) {
			rep.Problems = append(rep.Problems, Problem{Path: rel, What: ProblemTempFile})
			return nil
		}
		sum, ext, ok := folder.ParseMediaName(d.Name())
		if !ok || folder.MediaRel(sum, ext) != rel {
			rep.Problems = append(rep.Problems, Problem{Path: rel, What: ProblemBadName})
			return nil
		}
		got, err := sink.FileSum(p)
		if err != nil {
			return err
		}
		rep.Files++
		rep.Bytes += got.Size
		if got.SHA256 != sum {
			rep.Problems = append(rep.Problems, Problem{Path: rel, What: ProblemCorrupt})
			bad[rel] = true
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", f.Rel(root), err)
	}
	var forget []string
	if store != nil {
		missing := map[string]bool{}
		err := store.EachMedia(func(m checkpoint.Media) error {
			if m.Status != checkpoint.MediaOK {
				return nil
			}
			if bad[m.Path] {
				forget = append(forget, m.URL)
				return nil
			}
			if _, err := os.Stat(f.Abs(m.Path)); errors.Is(err, fs.ErrNotExist) {
				if !missing[m.Path] {
					rep.Problems = append(rep.Problems, Problem{Path: m.Path, What: ProblemMissing})
				}
				missing[m.Path] = true
				forget = append(forget, m.URL)
			}
			return nil
		})
		if err != nil {
			return rep, err
		}
	}
	sort.Slice(rep.Problems, func(i, j int) bool { return rep.Problems[i].Path < rep.Problems[j].Path })
	if !repair {
		return rep, nil
	}
	paths := make([]string, 0, len(bad))
	for rel := range bad {
		paths = append(paths, rel)
	}
	sort.Strings(paths)
	for _, rel := range paths {
		if err := os.Remove(f.Abs(rel)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return rep, err
		}
		rep.Repaired = append(rep.Repaired, rel+": damaged copy deleted")
	}
	if store != nil && len(forget) > 0 {
		if err := store.ForgetMedia(forget...); err != nil {
			return rep, err
		}
		rep.Repaired = append(rep.Repaired, fmt.Sprintf("%d link(s) whose file was missing or damaged will be fetched again by the next media run", len(forget)))
	}
	var kept []Problem
	for _, p := range rep.Problems {
		switch p.What {
		case ProblemTempFile:
			if err := os.Remove(f.Abs(p.Path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return rep, err
			}
			rep.Repaired = append(rep.Repaired, p.Path+": temporary file deleted")
		case ProblemBadName:
			kept = append(kept, p)
		}
	}
	rep.Problems = kept
	return rep, nil
}

// Intact reports whether Verify found nothing wrong that remains.
func (r VerifyReport) Intact() bool { return len(r.Problems) == 0 }
