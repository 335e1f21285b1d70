package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// A reparse writes every part again from its raw twin, into a staging folder,
// one part at a time; each staged part is recorded here as it lands, so that a
// reparse killed midway goes on where it stopped. It then commits, in one
// transaction, the staged parts' files and ads in place of the old ones
// together with a swap journal that names the table folders to move into
// place; and clears the journal once they are. A crash before that commit
// leaves the old tables and the old registry; one after it leaves the
// journal, and the swap (renames only) is finished by whatever opens the
// folder next. So the tables are always the old ones or the new ones.
var bucketReparse = []byte("reparse")

// metaReparseSwap holds the swap journal between the commit and the end of
// the swap.
const metaReparseSwap = "reparse_swap"

// StagedPart is one part written again by a reparse.
type StagedPart struct {
	Shard string `json:"shard"`
	Part  int    `json:"part"`
	// RawSHA256 names the raw twin the part was decoded from: a staged part
	// is reused on resume only while its twin is unchanged.
	RawSHA256 string `json:"raw_sha256,omitempty"`
	// Files are the part's data files (not its raw twin), with paths
	// relative to the folder they are moved into.
	Files   []File   `json:"files"`
	Ads     []AdSeen `json:"ads,omitempty"`
	Rows    int64    `json:"rows"`
	Overlap int64    `json:"overlap,omitempty"`
	// Kept marks a part copied as it was, because its raw twin is lost.
	Kept bool `json:"kept,omitempty"`
}

func stagedKey(shard string, part int) []byte {
	return []byte(shard + "\x00" + strconv.Itoa(part))
}

// StagePart records a part the reparse has written to its staging folder.
func (s *Store) StagePart(p StagedPart) error {
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketReparse)
		if err != nil {
			return err
		}
		return b.Put(stagedKey(p.Shard, p.Part), v)
	})
}

// StagedParts returns the parts an unfinished reparse has staged, by shard
// and part number.
func (s *Store) StagedParts() (map[string]map[int]StagedPart, error) {
	out := map[string]map[int]StagedPart{}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketReparse)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var p StagedPart
			if err := json.Unmarshal(v, &p); err != nil {
				return fmt.Errorf("staged part %q: %w", k, err)
			}
			if out[p.Shard] == nil {
				out[p.Shard] = map[int]StagedPart{}
			}
			out[p.Shard][p.Part] = p
			return nil
		})
	})
	return out, err
}

// DropStaged forgets what an unfinished reparse staged (--restart).
func (s *Store) DropStaged() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketReparse); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
		return nil
	})
}

// CommitReparse makes the staged parts the folder's, in one transaction: for
// every shard given, its data files' records and its ad index are replaced by
// the staged parts' (its raw twins' records stay), its state is stored as
// given, the swap journal is recorded and the staging records are dropped.
func (s *Store) CommitReparse(shards []Shard, parts map[string]map[int]StagedPart, journal []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, sh := range shards {
			var raws []File
			if root := tx.Bucket(bucketFiles); root != nil {
				if b := root.Bucket([]byte(sh.ID)); b != nil {
					err := b.ForEach(func(_, v []byte) error {
						var f File
						if err := json.Unmarshal(v, &f); err != nil {
							return err
						}
						if f.Raw {
							raws = append(raws, f)
						}
						return nil
					})
					if err != nil {
						return fmt.Errorf("file records of %s: %w", sh.ID, err)
					}
				}
			}
			if err := dropFiles(tx, sh.ID); err != nil {
				return err
			}
			if err := dropAds(tx, sh.ID); err != nil {
				return err
			}
			files := raws
			for n := 0; n < sh.Parts; n++ {
				p, ok := parts[sh.ID][n]
				if !ok {
					return fmt.Errorf("reparse of %s: part %d was not staged", sh.ID, n)
				}
				files = append(files, p.Files...)
				if len(p.Ads) > 0 {
					if err := putAds(tx, sh.ID, n, p.Ads); err != nil {
						return err
					}
				}
			}
			if err := putFiles(tx, sh.ID, files); err != nil {
				return err
			}
			if err := putShard(tx, sh, sh.UpdatedAt); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Put([]byte(metaReparseSwap), journal); err != nil {
			return err
		}
		if err := tx.DeleteBucket(bucketReparse); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
			return err
		}
		return nil
	})
}

// ReparseSwap returns the swap journal of a committed reparse whose table
// folders may not all be in place yet; nil when there is none.
func (s *Store) ReparseSwap() ([]byte, error) { return s.Meta(metaReparseSwap) }

// EndReparseSwap records that the swap is finished.
func (s *Store) EndReparseSwap() error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Delete([]byte(metaReparseSwap)) })
}
