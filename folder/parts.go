package folder

import (
	"path/filepath"
	"strings"

	"adharvest/sink"
)

// SharedPart is the path of part n of a stem of owner's shards in a table
// that every dataset writes (rejects). Its name carries the owner table and
// the partition, so that parts of different datasets never collide:
// rejects/ads.FR.20240101-20240107_all-p00000.parquet.
func (f Folder) SharedPart(t sink.Table, owner, partition, stem string, n int) string {
	if partition == "" {
		partition = "-"
	}
	return filepath.Join(f.TableDir(t), owner+"."+partition+"."+PartName(stem, n, PartExt))
}

// ParseSharedPartName splits the name of a SharedPart.
func ParseSharedPartName(name string) (owner, partition, stem string, n int, ok bool) {
	owner, rest, ok1 := strings.Cut(name, ".")
	partition, rest, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || owner == "" || partition == "" {
		return "", "", "", 0, false
	}
	if partition == "-" {
		partition = ""
	}
	stem, n, ok = ParsePartName(rest)
	return owner, partition, stem, n, ok
}

// Rel is path relative to the folder, with forward slashes, as the
// checkpoint's file registry and check's messages name files.
func (f Folder) Rel(path string) string {
	r, err := filepath.Rel(f.Dir, path)
	if err != nil {
		return filepath.ToSlash(path)
	}
	return filepath.ToSlash(r)
}

// Abs is the path of a file the registry names relative to the folder.
func (f Folder) Abs(rel string) string { return filepath.Join(f.Dir, filepath.FromSlash(rel)) }
