package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math"

	bolt "go.etcd.io/bbolt"
)

// The ad index records, for every committed part of the ads table, the ad ids
// it holds and the days each was first and last shown. It is written in the
// same transaction that names the part (CommitFlush), and dropped with the
// shard's parts when the shard restarts (ResetShard), so it always describes
// exactly the committed files: the ad/detail fan-out and status read the ads a
// crawl found from here, without opening the files or a query engine.
var bucketAds = []byte("part_ads")

// metaAdIndex is set once the index covers every committed ads part: from
// the start for a new checkpoint, after a back-fill for one written before the
// index existed.
const metaAdIndex = "ad_index"

// NoDay marks an unknown date in an AdSeen.
const NoDay = math.MinInt32

// AdSeen is one ad of an ads part: its id and the days (since 1970-01-01)
// it was first and last shown, NoDay when the API did not say.
type AdSeen struct {
	ID          int64
	First, Last int32
}

const adSeenSize = 16

func encodeAds(ads []AdSeen) []byte {
	b := make([]byte, len(ads)*adSeenSize)
	for i, a := range ads {
		o := b[i*adSeenSize:]
		binary.BigEndian.PutUint64(o, uint64(a.ID))
		binary.BigEndian.PutUint32(o[8:], uint32(a.First))
		binary.BigEndian.PutUint32(o[12:], uint32(a.Last))
	}
	return b
}

func decodeAds(b []byte, each func(AdSeen)) error {
	if len(b)%adSeenSize != 0 {
		return fmt.Errorf("ad index entry of %d bytes is corrupt", len(b))
	}
	for o := 0; o < len(b); o += adSeenSize {
		each(AdSeen{
			ID:    int64(binary.BigEndian.Uint64(b[o:])),
			First: int32(binary.BigEndian.Uint32(b[o+8:])),
			Last:  int32(binary.BigEndian.Uint32(b[o+12:])),
		})
	}
	return nil
}

// putAds records the ads of part n of shard id.
func putAds(tx *bolt.Tx, id string, n int, ads []AdSeen) error {
	root, err := tx.CreateBucketIfNotExists(bucketAds)
	if err != nil {
		return err
	}
	b, err := root.CreateBucketIfNotExists([]byte(id))
	if err != nil {
		return err
	}
	return b.Put(seqKey(n), encodeAds(ads))
}

func dropAds(tx *bolt.Tx, id string) error {
	root := tx.Bucket(bucketAds)
	if root == nil || root.Bucket([]byte(id)) == nil {
		return nil
	}
	return root.DeleteBucket([]byte(id))
}

// AdIndexed reports whether the ad index covers every committed ads part. A
// checkpoint written before the index existed needs IndexAds for each of its
// parts, then MarkAdIndexed.
func (s *Store) AdIndexed() (bool, error) {
	v, err := s.Meta(metaAdIndex)
	return len(v) > 0, err
}

// MarkAdIndexed records that the ad index is complete.
func (s *Store) MarkAdIndexed() error { return s.SetMeta(metaAdIndex, []byte("1")) }

// IndexAds records the ads of an already committed part n of shard id (the
// back-fill of a checkpoint written before the index existed).
func (s *Store) IndexAds(id string, n int, ads []AdSeen) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putAds(tx, id, n, ads) })
}

// Ads calls each for every ad of every committed ads part, in no particular
// order; an ad found by several parts is reported once per part.
func (s *Store) Ads(each func(AdSeen)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketAds)
		if root == nil {
			return nil
		}
		return root.ForEach(func(k, v []byte) error {
			b := root.Bucket(k)
			if b == nil {
				return nil
			}
			return b.ForEach(func(_, v []byte) error { return decodeAds(v, each) })
		})
	})
}
