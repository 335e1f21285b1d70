// Package checkpoint is the durable state of a crawl, kept in one bbolt database
// (DIR/_adharvest/checkpoint.db) beside the data it describes.
//
// # Commit protocol
//
// The unit of work is a shard: one (dataset, country, date window, term). A shard
// walks a chain of pages; every page is committed here, in one transaction,
// together with the shard's new cursor (next search_id, pages done, has_more)
// and the day's request count. The page's raw body is stored as "pending" until
// it is flushed.
//
// Every few pages, and when the shard ends, the crawl flushes: it decodes the
// pending pages into rows, writes part number Parts of the shard
// (…/STEM-pNNNNN.parquet and its raw JSONL twin) atomically (temporary file,
// fsync, rename, directory fsync), and only then commits a transaction that
// deletes those pending pages and increments Parts. Data first, state second.
//
// A kill -9 can therefore land in three places:
//   - before a page commit: the page is fetched again on resume (one request lost);
//   - after a page commit, before its flush: the page is still pending here and is
//     flushed on resume, with no request repeated;
//   - after a part is renamed into place, before Parts is incremented: the part
//     file exists but the state does not name it. On start Sweep deletes every part
//     whose number is at or above its shard's Parts, and the pending pages, still
//     here, are flushed again under the same deterministic name.
//
// No state ever names data that is not durable, and no data is named twice, so a
// resumed crawl loses nothing and writes nothing twice. bbolt fsyncs every
// commit and stays fast at the size a year of EEA weekly shards reaches (a few
// thousand shard records plus at most a few pages pending per running shard),
// where rewriting one JSON file per page would not.
package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/zstd"
	bolt "go.etcd.io/bbolt"
)

var (
	bucketMeta    = []byte("meta")
	bucketShards  = []byte("shards")
	bucketPending = []byte("pending")
	bucketUsage   = []byte("usage")
	bucketDone    = []byte("done_ids")
)

// ErrBusy means another process holds the checkpoint open.
var ErrBusy = errors.New("checkpoint is in use by another process")

// Shard statuses.
const (
	StatusPending = "pending"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusFailed  = "failed"
)

// Shard is the durable state of one shard.
type Shard struct {
	ID      string `json:"id"`
	Dataset string `json:"dataset"`
	Status  string `json:"status"`
	// Pages counts pages fetched since the shard (re)started.
	Pages int `json:"pages"`
	// NextSearchID is only a hint: search_ids expire, and a rejected one restarts
	// the shard.
	NextSearchID string `json:"next_search_id,omitempty"`
	HasMore      bool   `json:"has_more"`
	// Parts counts the committed part files; part numbers 0..Parts-1 are data.
	Parts int   `json:"parts"`
	Rows  int64 `json:"rows"`
	// RequestHash identifies the shard's filters, so a resume never continues a
	// search_id chain under different filters.
	RequestHash string `json:"request_hash"`
	EmptyRun    int    `json:"empty_run,omitempty"`
	Restarts    int    `json:"restarts,omitempty"`
	Requests    int    `json:"requests"`
	Reason      string `json:"reason,omitempty"`
	// Warnings are what the shard's pages showed that a researcher should
	// know (a page longer than max_count, a chain cut at its bound), once each.
	Warnings []string `json:"warnings,omitempty"`
	// Rejects counts items the API sent that could not be decoded; they are
	// kept in the rejects table.
	Rejects int `json:"rejects,omitempty"`
	// Planned says how the slice was cut: "report" (from ad/report's daily
	// counts), "blind" (from the density of the slice before), "half" (of a
	// short slice queried again), or "" (fixed windows, one request).
	Planned string `json:"planned,omitempty"`
	// Expected is what ad/report counts in the slice, nil when no report
	// says; Exact tells whether that count is of exactly what the slice's
	// query returns (not of ALL countries summed, for example).
	Expected *int64 `json:"expected,omitempty"`
	Exact    bool   `json:"exact,omitempty"`
	// Harvested is the distinct items the slice returned.
	Harvested int64 `json:"harvested,omitempty"`
	// Stop says why paging ended before the API said it had no more:
	// "empty_pages" (the empty-page guard) or "capped" (the page bound).
	Stop string `json:"stop,omitempty"`
	// Split names the slices that replaced this one: its two halves, after
	// it came back short.
	Split []string `json:"split,omitempty"`
	// Overlap counts the ads the slice returned that its predecessor (the
	// slice it took over from) holds already; they count as harvested.
	Overlap int64 `json:"overlap,omitempty"`
	// Narrowed is the oldest day (YYYY-MM-DD) a slice reached before its
	// search_id died across a quota reset: the slice stands for the days
	// after it, and a new slice (named in Split) for the days up to it.
	Narrowed  string    `json:"narrowed,omitempty"`
	Err       string    `json:"error,omitempty"`
	LogID     string    `json:"log_id,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Page is one fetched response waiting to be flushed into a part.
type Page struct {
	Seq       int             `json:"seq"`
	FetchedAt time.Time       `json:"fetched_at"`
	RunID     string          `json:"run_id"`
	Endpoint  string          `json:"endpoint"`
	Request   json.RawMessage `json:"request"`
	LogID     string          `json:"log_id,omitempty"`
	Body      []byte          `json:"-"`
	// Frame is the page's line as one zstd frame (see AppendLine and
	// Store.Frame): what CommitPage stores, computed there when nil.
	Frame []byte `json:"-"`
}

// Store is an open checkpoint. It is safe for concurrent use; bbolt serialises
// the write transactions.
type Store struct {
	db  *bolt.DB
	enc *zstd.Encoder
	dec *zstd.Decoder
	// clock stamps the shards' UpdatedAt (time.Now unless SetClock).
	clock atomic.Pointer[func() time.Time]
}

// SetClock makes now the time the store stamps shards with: a crawl's own
// clock, which decides which of its days are provisional (a test's moving
// "today" among them).
func (s *Store) SetClock(now func() time.Time) { s.clock.Store(&now) }

func (s *Store) now() time.Time {
	if f := s.clock.Load(); f != nil {
		return (*f)().UTC()
	}
	return time.Now().UTC()
}

// Open opens or creates the checkpoint database at path (package folder says
// where an output folder keeps it), creating its folder. A database that is
// damaged is not used: Open returns a *CorruptError instead.
func Open(path string) (*Store, error) {
	p := path
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	db, err := openDB(p, &bolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		fresh := tx.Bucket(bucketShards) == nil
		for _, b := range [][]byte{bucketMeta, bucketShards, bucketPending, bucketUsage, bucketDone, bucketAds, bucketFiles} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		if fresh {
			// A new checkpoint indexes every ads part and registers every
			// file from the first.
			if err := tx.Bucket(bucketMeta).Put([]byte(metaAdIndex), []byte("1")); err != nil {
				return err
			}
			return tx.Bucket(bucketMeta).Put([]byte(metaFiles), []byte("1"))
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialise checkpoint: %w", err)
	}
	// A pending page is compressed on its own: a window larger than a page
	// would only cost memory.
	enc, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(1<<20))
	dec, _ := zstd.NewReader(nil)
	s := &Store{db: db, enc: enc, dec: dec}
	s.GroupCommit(1) // a commit goes alone unless the crawl says how many share
	return s, nil
}

// OpenReadOnly opens an existing checkpoint for reading (status). It fails
// with an error matching fs.ErrNotExist when there is none.
func OpenReadOnly(path string) (*Store, error) {
	p := path
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("open checkpoint: %w", err)
	}
	db, err := openDB(p, &bolt.Options{ReadOnly: true, Timeout: 2 * time.Second})
	if err != nil {
		return nil, err
	}
	dec, _ := zstd.NewReader(nil)
	return &Store{db: db, dec: dec}, nil
}

// CorruptError is a checkpoint file that bbolt cannot read: truncated,
// overwritten, or not a checkpoint at all.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("the checkpoint %s is damaged (%v)", e.Path, e.Err)
}
func (e *CorruptError) Unwrap() error { return e.Err }

// openDB opens a bbolt file and walks every page once, so that damage shows
// up here as a *CorruptError rather than later as a panic inside bbolt
// (which asserts on inconsistent pages instead of returning errors).
func openDB(p string, opts *bolt.Options) (db *bolt.DB, err error) {
	// A damaged file can point bbolt at pages outside its memory map; the
	// read faults (SIGSEGV), which kills the process unless this goroutine
	// turns faults into panics. So every read of an unverified file happens
	// here, never in a goroutine of bbolt's own (tx.Check walks in one, and
	// crashed the tests on a damaged checkpoint now and then).
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if db != nil {
				db.Close()
			}
			db, err = nil, &CorruptError{Path: p, Err: fmt.Errorf("%v", r)}
		}
	}()
	db, err = bolt.Open(p, 0o600, opts)
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("%s: %w", p, ErrBusy)
		}
		if errors.Is(err, bolt.ErrInvalid) || errors.Is(err, bolt.ErrChecksum) || errors.Is(err, bolt.ErrVersionMismatch) {
			return nil, &CorruptError{Path: p, Err: err}
		}
		return nil, fmt.Errorf("open checkpoint %s: %w", p, err)
	}
	if err := db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error { return walkBucket(b) })
	}); err != nil {
		db.Close()
		return nil, &CorruptError{Path: p, Err: err}
	}
	return db, nil
}

// walkBucket reads every key, value and nested bucket of b, so that each
// page the file references is touched once.
func walkBucket(b *bolt.Bucket) error {
	c := b.Cursor()
	var sum byte
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			for _, c := range v { // a value's bytes may lie outside the file too
				sum ^= c
			}
			continue
		}
		nb := b.Bucket(k)
		if nb == nil {
			return fmt.Errorf("key %q has no value and is not a bucket", k)
		}
		if err := walkBucket(nb); err != nil {
			return err
		}
	}
	walked.Add(uint32(sum)) // kept, so that the compiler keeps the reads
	return nil
}

var walked atomic.Uint32

// Close releases the database.
func (s *Store) Close() error {
	if s.dec != nil {
		s.dec.Close()
	}
	return s.db.Close()
}

// Meta returns a metadata value, nil when unset.
func (s *Store) Meta(key string) ([]byte, error) {
	var v []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		v = bytes.Clone(tx.Bucket(bucketMeta).Get([]byte(key)))
		return nil
	})
	return v, err
}

// SetMeta stores a metadata value.
func (s *Store) SetMeta(key string, value []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte(key), value) })
}

// Shard returns a shard's state; ok is false when it was never started.
func (s *Store) Shard(id string) (sh Shard, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketShards).Get([]byte(id))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &sh)
	})
	return sh, ok, err
}

// Shards returns every shard ever started, in key order.
func (s *Store) Shards() ([]Shard, error) {
	var out []Shard
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketShards).ForEach(func(_, v []byte) error {
			var sh Shard
			if err := json.Unmarshal(v, &sh); err != nil {
				return err
			}
			out = append(out, sh)
			return nil
		})
	})
	return out, err
}

func putShard(tx *bolt.Tx, sh Shard, now time.Time) error {
	sh.UpdatedAt = now
	v, err := json.Marshal(sh)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketShards).Put([]byte(sh.ID), v)
}

// SaveShard stores a shard's state on its own.
func (s *Store) SaveShard(sh Shard) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putShard(tx, sh, s.now()) })
}

// CommitPage stores a fetched page as pending and the shard's advanced cursor in
// one transaction. Ids in done are recorded as fetched in the same transaction
// (the ad/detail fan-out), so an id is never fetched again once its response is
// durable.
func (s *Store) CommitPage(sh Shard, p Page, done ...int64) error {
	frame := p.Frame
	if frame == nil {
		frame = s.Frame(p)
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		if err := putPending(tx, sh.ID, p.Seq, frame, done); err != nil {
			return err
		}
		return putShard(tx, sh, s.now())
	})
}

// CommitFetched stores a fetched page as pending and marks the ids in done as
// fetched, in one transaction, without the shard's state: for the ad/detail
// fan-out, whose workers commit concurrently and whose state (a count of
// pages) is stored with each flush instead, so that no commit can roll back
// the parts a flush recorded.
func (s *Store) CommitFetched(shard string, p Page, done ...int64) error {
	frame := p.Frame
	if frame == nil {
		frame = s.Frame(p)
	}
	return s.db.Batch(func(tx *bolt.Tx) error { return putPending(tx, shard, p.Seq, frame, done) })
}

func putPending(tx *bolt.Tx, shard string, seq int, frame []byte, done []int64) error {
	b, err := tx.Bucket(bucketPending).CreateBucketIfNotExists([]byte(shard))
	if err != nil {
		return err
	}
	if err := b.Put(seqKey(seq), frame); err != nil {
		return err
	}
	for _, id := range done {
		if err := tx.Bucket(bucketDone).Put(idKey(id), []byte("ok")); err != nil {
			return err
		}
	}
	return nil
}

// GroupCommit lets up to workers concurrent page commits share one write
// transaction and one fsync (bbolt's Batch): each caller still returns only
// once its own page is durable, so a page is never lost to a crash after
// its commit returned. A commit waits at most a millisecond for others.
func (s *Store) GroupCommit(workers int) {
	s.db.MaxBatchSize = max(1, workers)
	s.db.MaxBatchDelay = time.Millisecond
}

func idKey(id int64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(id))
	return k
}

// MarkDone records ids as fetched (repair, from the raw answers).
func (s *Store) MarkDone(ids ...int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			if err := tx.Bucket(bucketDone).Put(idKey(id), []byte("ok")); err != nil {
				return err
			}
		}
		return nil
	})
}

// RestoreShard stores a shard's state as of at, the time its last page was
// fetched (repair: provisional windows are judged by when they finished).
func (s *Store) RestoreShard(sh Shard, at time.Time) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		sh.UpdatedAt = at.UTC()
		v, err := json.Marshal(sh)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketShards).Put([]byte(sh.ID), v)
	})
}

// Forget removes ids from those recorded as fetched or failed, so that they
// are fetched again (repair: their answers were lost).
func (s *Store) Forget(ids ...int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, id := range ids {
			if err := tx.Bucket(bucketDone).Delete(idKey(id)); err != nil {
				return err
			}
		}
		return nil
	})
}

// MarkFailed records an id whose fetch failed for good (the API rejected it),
// with the reason, so that later runs do not spend quota on it again.
func (s *Store) MarkFailed(id int64, reason string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDone).Put(idKey(id), []byte("failed: "+reason))
	})
}

// Done returns every id recorded as fetched or failed, with "ok" or the
// failure reason.
func (s *Store) Done() (map[int64]string, error) {
	out := map[int64]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDone).ForEach(func(k, v []byte) error {
			if len(k) == 8 {
				out[int64(binary.BigEndian.Uint64(k))] = string(v)
			}
			return nil
		})
	})
	return out, err
}

// Pending returns a shard's pending pages in fetch order, with their frames.
func (s *Store) Pending(id string) ([]Page, error) {
	var out []Page
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending).Bucket([]byte(id))
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			p, err := s.decodeRecord(id, v)
			if err != nil {
				return err
			}
			if len(k) == 8 {
				p.Seq = int(binary.BigEndian.Uint64(k))
			}
			out = append(out, p)
			return nil
		})
	})
	return out, err
}

// CommitFlush records that the shard's pending pages are now durable in part
// files: it drops them and stores the shard (with its new Parts and Rows) in one
// transaction, together with the newest part's files (number Parts-1) and, for
// an ads part, the ads it holds. Call it only after the part files are renamed
// into place.
func (s *Store) CommitFlush(sh Shard, f Flushed) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if f.Seqs == nil {
			if err := dropPending(tx, sh.ID); err != nil {
				return err
			}
		} else if b := tx.Bucket(bucketPending).Bucket([]byte(sh.ID)); b != nil {
			for _, n := range f.Seqs {
				if err := b.Delete(seqKey(n)); err != nil {
					return err
				}
			}
		}
		if len(f.Ads) > 0 {
			if err := putAds(tx, sh.ID, sh.Parts-1, f.Ads); err != nil {
				return err
			}
		}
		if err := putFiles(tx, sh.ID, f.Files); err != nil {
			return err
		}
		return putShard(tx, sh, s.now())
	})
}

// ResetShard discards a shard's pending pages and the ad index of its parts,
// and stores its reset state, so that the shard starts again from its first
// page. Its part files become orphans for the crawl's sweep to delete.
func (s *Store) ResetShard(sh Shard) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := dropPending(tx, sh.ID); err != nil {
			return err
		}
		if err := dropAds(tx, sh.ID); err != nil {
			return err
		}
		if err := dropFiles(tx, sh.ID); err != nil {
			return err
		}
		return putShard(tx, sh, s.now())
	})
}

func dropPending(tx *bolt.Tx, id string) error {
	if tx.Bucket(bucketPending).Bucket([]byte(id)) == nil {
		return nil
	}
	return tx.Bucket(bucketPending).DeleteBucket([]byte(id))
}

func seqKey(n int) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(n))
	return k
}

// Usage returns the data requests recorded for a UTC day ("2006-01-02").
func (s *Store) Usage(day string) (int, error) {
	var n int
	err := s.db.View(func(tx *bolt.Tx) error {
		n = int(getCount(tx.Bucket(bucketUsage), day))
		return nil
	})
	return n, err
}

// DayUsage is one UTC day's requests: the total, and per endpoint the
// requests sent and the answers that were throttled (429
// rate_limit_exceeded), since the live quota may be per endpoint.
type DayUsage struct {
	Day        string
	Requests   int
	ByEndpoint map[string]int
	Throttled  map[string]int
}

// UsageOf returns a day's usage by endpoint.
func (s *Store) UsageOf(day string) (DayUsage, error) {
	u := DayUsage{Day: day, ByEndpoint: map[string]int{}, Throttled: map[string]int{}}
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsage)
		u.Requests = int(getCount(b, day))
		c := b.Cursor()
		prefix := []byte(day + "/")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(v) != 8 {
				continue
			}
			ep := string(k[len(prefix):])
			n := int(binary.BigEndian.Uint64(v))
			if t, ok := strings.CutSuffix(ep, throttledSuffix); ok {
				u.Throttled[t] = n
			} else {
				u.ByEndpoint[ep] = n
			}
		}
		return nil
	})
	return u, err
}

const throttledSuffix = "#throttled"

func getCount(b *bolt.Bucket, key string) int64 {
	if v := b.Get([]byte(key)); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

func addCount(b *bolt.Bucket, key string, n int64) error {
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, uint64(getCount(b, key)+n))
	return b.Put([]byte(key), v)
}

// TakeUsage records one request to endpoint on a day, unless budget (when
// above zero) is already used up by the day's requests to every endpoint, in
// which case ok is false and nothing is recorded. It is committed before the
// request is sent, so separate runs add up exactly, even across a crash, and
// concurrent workers cannot overshoot the budget.
func (s *Store) TakeUsage(day, endpoint string, budget int) (total int, ok bool, err error) {
	err = s.db.Batch(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsage)
		total = int(getCount(b, day))
		if budget > 0 && total >= budget {
			ok = false
			return nil
		}
		ok = true
		total++
		if err := addCount(b, day, 1); err != nil {
			return err
		}
		return addCount(b, day+"/"+endpoint, 1)
	})
	return total, ok, err
}

// AddThrottled records that an answer of endpoint was throttled on a day.
func (s *Store) AddThrottled(day, endpoint string) error {
	return s.db.Batch(func(tx *bolt.Tx) error {
		return addCount(tx.Bucket(bucketUsage), day+"/"+endpoint+throttledSuffix, 1)
	})
}

// Reset deletes all crawl state (for --restart).
func (s *Store) Reset() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketShards, bucketPending, bucketDone, bucketAds, bucketFiles} {
			if err := tx.DeleteBucket(b); err != nil && !errors.Is(err, bolt.ErrBucketNotFound) {
				return err
			}
			if _, err := tx.CreateBucket(b); err != nil {
				return err
			}
		}
		if err := tx.Bucket(bucketMeta).Put([]byte(metaAdIndex), []byte("1")); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put([]byte(metaFiles), []byte("1"))
	})
}

// ShardAdIDs returns the distinct ads the committed parts of an ads shard hold.
func (s *Store) ShardAdIDs(id string) (map[int64]bool, error) {
	seen := map[int64]bool{}
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketAds)
		if root == nil || root.Bucket([]byte(id)) == nil {
			return nil
		}
		return root.Bucket([]byte(id)).ForEach(func(_, v []byte) error {
			return decodeAds(v, func(a AdSeen) { seen[a.ID] = true })
		})
	})
	return seen, err
}

// ShardAdParts returns the ads of each committed part of an ads shard, in
// part order.
func (s *Store) ShardAdParts(id string) ([][]AdSeen, error) {
	var out [][]AdSeen
	err := s.db.View(func(tx *bolt.Tx) error {
		root := tx.Bucket(bucketAds)
		if root == nil || root.Bucket([]byte(id)) == nil {
			return nil
		}
		return root.Bucket([]byte(id)).ForEach(func(_, v []byte) error {
			var part []AdSeen
			err := decodeAds(v, func(a AdSeen) { part = append(part, a) })
			out = append(out, part)
			return err
		})
	})
	return out, err
}
