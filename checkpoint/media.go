package checkpoint

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The media state records, for every creative URL that package media has
// tried, how the try ended: one record per distinct URL, keyed by the
// SHA-256 of the URL (URLs may be longer than a bbolt key should be). A record
// is written only after the file it names is durable in the content store
// (data first, state second), so a kill -9 at any point costs at most the
// download in flight, never a record naming a file that is not there.
//
// The bucket is created on first write, so a checkpoint that never archived
// media has none, and Reset (--restart) leaves it alone: a record stays true
// as long as its file is in the store, and package media checks that the file
// is there before it trusts an ok record.
var bucketMedia = []byte("media")

// Media statuses: how the last try of a URL ended.
const (
	// MediaOK: the file is in the content store (Media.Path).
	MediaOK = "ok"
	// MediaExpired: the link's signature is stale (403, or an x-expires in
	// the past, which is not even asked). Final for this URL; a newer link to
	// the same object is a URL of its own.
	MediaExpired = "expired"
	// MediaRemoved: the object is gone (404, 410). Final.
	MediaRemoved = "removed"
	// MediaTooLarge: the object is larger than the per-file cap (Media.Cap);
	// tried again only under a larger cap.
	MediaTooLarge = "too_large"
	// MediaFailed: anything else (a refused URL or redirect, a network
	// error, a 5xx after retries, a truncated body); tried again by the next
	// run.
	MediaFailed = "failed"
)

// Media is the state of one creative URL.
type Media struct {
	URL  string `json:"url"`
	Kind string `json:"kind,omitempty"`
	// Status is one of the Media* statuses.
	Status string `json:"status"`
	// SHA256 (hex), Bytes and Path (relative to the output folder, forward
	// slashes) describe the stored file; set only when Status is ok.
	SHA256 string `json:"sha256,omitempty"`
	Bytes  int64  `json:"bytes,omitempty"`
	Path   string `json:"path,omitempty"`
	// ContentType is the media type the server sent (parameters dropped).
	ContentType string `json:"content_type,omitempty"`
	// HTTPStatus is the status of the last answer; 0 when nothing was sent
	// (an x-expires in the past, a refused URL, a file taken from another
	// link to the same object).
	HTTPStatus int `json:"http_status,omitempty"`
	// ContentLength is the size the server announced, -1 or 0 when unknown.
	ContentLength int64 `json:"content_length,omitempty"`
	// Cap is the per-file size cap a too_large answer was judged by.
	Cap int64 `json:"cap,omitempty"`
	// SourceURL is the other link to the same object (same host and path,
	// another signature) that the file was downloaded from, "" when it came
	// from URL itself.
	SourceURL string    `json:"source_url,omitempty"`
	FetchedAt time.Time `json:"fetched_at"`
	// Attempts counts the runs that tried the URL; RunID is the last.
	Attempts int    `json:"attempts,omitempty"`
	RunID    string `json:"run_id,omitempty"`
	Err      string `json:"error,omitempty"`
}

func mediaKey(url string) []byte {
	k := sha256.Sum256([]byte(url))
	return k[:]
}

// PutMedia stores media states, replacing those of the same URLs, in one
// transaction. Concurrent callers are batched into fewer commits (bbolt's
// Batch), each still durable when PutMedia returns. Call it only once the
// files the states name are durable.
func (s *Store) PutMedia(ms ...Media) error {
	if len(ms) == 0 {
		return nil
	}
	vals := make([][]byte, len(ms))
	for i, m := range ms {
		v, err := json.Marshal(m)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return s.db.Batch(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketMedia)
		if err != nil {
			return err
		}
		for i, m := range ms {
			if err := b.Put(mediaKey(m.URL), vals[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// MediaState returns the state of one URL; ok is false when it was never
// tried.
func (s *Store) MediaState(url string) (m Media, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMedia)
		if b == nil {
			return nil
		}
		v := b.Get(mediaKey(url))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &m)
	})
	return m, ok, err
}

// EachMedia calls each for every media state, in no particular order. each
// must not write to the store.
func (s *Store) EachMedia(each func(Media) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMedia)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var m Media
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("media record %x: %w", k[:4], err)
			}
			return each(m)
		})
	})
}

// ForgetMedia drops the states of urls, so that they are tried again (check
// --repair, for a stored file that is lost or damaged).
func (s *Store) ForgetMedia(urls ...string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMedia)
		if b == nil {
			return nil
		}
		for _, u := range urls {
			if err := b.Delete(mediaKey(u)); err != nil {
				return err
			}
		}
		return nil
	})
}
