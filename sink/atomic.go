// Package sink writes harvested rows as Parquet and raw responses as zstd JSONL,
// always through WriteFileAtomic so that a reader (DuckDB's glob, or a resumed
// crawl) never sees a torn file: data goes to a temporary name that no glob
// matches, is fsynced, renamed into place, and the directory is fsynced so the
// rename itself survives a power cut. The checkpoint uses the same helper.
package sink

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"adharvest/internal/failpoint"
)

// TempPrefix starts every temporary file name. Files with it are never data;
// Sweep removes them on start.
const TempPrefix = ".tmp-"

// WriteFileAtomic writes path by calling write on a temporary file in the same
// directory, then fsyncs, closes and renames it into place and fsyncs the
// directory. On any error the temporary file is removed and path is untouched.
// Writing the same path twice replaces it, which makes re-flushing a part after a
// crash idempotent.
func WriteFileAtomic(path string, write func(w io.Writer) error) error {
	_, err := WriteFileAtomicSum(path, write)
	return err
}

// Sum is what a written file holds: its size and SHA-256 (hex).
type Sum struct {
	Size   int64
	SHA256 string
}

// WriteFileAtomicSum is WriteFileAtomic that also returns the size and SHA-256
// of what was written, hashed on the way to the disk, so that the checkpoint
// can record what a later check must find.
func WriteFileAtomicSum(path string, write func(w io.Writer) error) (sum Sum, err error) {
	dir := filepath.Dir(path)
	if err := failpoint.Hit(failpoint.WriteFile); err != nil {
		return sum, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return sum, fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, TempPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return sum, fmt.Errorf("create temporary file for %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(f, h)}
	if err = write(cw); err != nil {
		return sum, fmt.Errorf("write %s: %w", path, err)
	}
	if err = failpoint.Hit(failpoint.PartWritten); err != nil {
		return sum, fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return sum, fmt.Errorf("sync %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return sum, fmt.Errorf("close %s: %w", path, err)
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return sum, err
	}
	if err = os.Rename(tmp, path); err != nil {
		return sum, fmt.Errorf("rename into %s: %w", path, err)
	}
	_ = failpoint.Hit(failpoint.PartRenamed)
	return Sum{Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}, SyncDir(dir)
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// FileSum reads a file and returns its size and SHA-256.
func FileSum(path string) (Sum, error) {
	f, err := os.Open(path)
	if err != nil {
		return Sum{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return Sum{}, err
	}
	return Sum{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// SyncDir fsyncs a directory so that renames and removals in it are durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := syncDirHandle(d); err != nil && !strings.Contains(err.Error(), "invalid argument") {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
