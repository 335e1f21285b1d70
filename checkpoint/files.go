package checkpoint

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// The file registry records every file a committed part consists of (the
// Parquet file of each table the part wrote, and its raw twin), with the rows
// it holds, its size and its SHA-256, in the transaction that names the part.
// It is what `adharvest check` verifies a folder against, what tells a file
// the checkpoint wrote from one it knows nothing about, and what repair
// rebuilds.
var bucketFiles = []byte("files")

// metaFiles is set once the registry covers every committed part: from the
// start for a new checkpoint, after a back-fill for one written before the
// registry existed.
const metaFiles = "file_registry"

// File is one committed file of a part.
type File struct {
	// Path is relative to the output folder, with forward slashes.
	Path  string `json:"path"`
	Shard string `json:"shard"`
	Part  int    `json:"part"`
	// Table is the table the file belongs to; Raw marks the raw twin.
	Table string `json:"table"`
	Raw   bool   `json:"raw,omitempty"`
	// Rows counts the file's rows (for a raw twin: its responses).
	Rows   int64  `json:"rows"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Schema is the schema version of the parser that wrote it.
	Schema string `json:"schema,omitempty"`
}

// Flushed is what one flush of a shard committed: its files and, for an ads
// part, the ads it holds.
type Flushed struct {
	Files []File
	Ads   []AdSeen
	// Seqs names the pending pages the part holds, to drop; nil drops them
	// all. The ad/detail fan-out names them, as its workers go on committing
	// pages while a part is written.
	Seqs []int
}

func putFiles(tx *bolt.Tx, shard string, files []File) error {
	if len(files) == 0 {
		return nil
	}
	root, err := tx.CreateBucketIfNotExists(bucketFiles)
	if err != nil {
		return err
	}
	b, err := root.CreateBucketIfNotExists([]byte(shard))
	if err != nil {
		return err
	}
	for _, f := range files {
		v, err := json.Marshal(f)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(f.Path), v); err != nil {
			return err
		}
	}
	return nil
}

func dropFiles(tx *bolt.Tx, shard string) error {
	root := tx.Bucket(bucketFiles)
	if root == nil || root.Bucket([]byte(shard)) == nil {
		return nil
	}
	return root.DeleteBucket([]byte(shard))
}

// Files calls each for every registered file, shard by shard.
func (s *Store) Files(each func(File) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketFiles)
		if root == nil {
			return nil
		}
		return root.ForEach(func(k, _ []byte) error {
			b := root.Bucket(k)
			if b == nil {
				return nil
			}
			return b.ForEach(func(_, v []byte) error {
				var f File
				if err := json.Unmarshal(v, &f); err != nil {
					return fmt.Errorf("file record of %s: %w", k, err)
				}
				return each(f)
			})
		})
	})
}

// ShardFiles returns the registered files of one shard.
func (s *Store) ShardFiles(shard string) ([]File, error) {
	var out []File
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketFiles)
		if root == nil {
			return nil
		}
		b := root.Bucket([]byte(shard))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var f File
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			out = append(out, f)
			return nil
		})
	})
	return out, err
}

// RegisterFiles records files of parts already committed (the back-fill of a
// checkpoint written before the registry, and repair).
func (s *Store) RegisterFiles(shard string, files []File) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putFiles(tx, shard, files) })
}

// FilesRegistered reports whether the registry covers every committed part.
func (s *Store) FilesRegistered() (bool, error) {
	v, err := s.Meta(metaFiles)
	return len(v) > 0, err
}

// MarkFilesRegistered records that the registry is complete.
func (s *Store) MarkFilesRegistered() error { return s.SetMeta(metaFiles, []byte("1")) }

// UnregisterFile drops one file's record (repair: a raw twin that is lost
// for good while its part is intact).
func (s *Store) UnregisterFile(shard, path string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketFiles)
		if root == nil || root.Bucket([]byte(shard)) == nil {
			return nil
		}
		return root.Bucket([]byte(shard)).Delete([]byte(path))
	})
}
