package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestPendingReadsBothRecordForms: a checkpoint written before pending pages
// were stored as frames (metadata length, metadata, compressed body) is read
// as well as a new one, so that a crawl interrupted by an older version
// resumes without losing its pending pages.
func TestPendingReadsBothRecordForms(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "checkpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	legacy := Page{Seq: 0, FetchedAt: at, RunID: "old", Endpoint: "ad/query", Request: json.RawMessage(`{"max_count":50}`), LogID: "L0", Body: []byte(`{"data":{"ads":[]}}`)}
	meta, _ := json.Marshal(legacy)
	rec := binary.BigEndian.AppendUint32(nil, uint32(len(meta)))
	rec = append(append(rec, meta...), s.enc.EncodeAll(legacy.Body, nil)...)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketPending).CreateBucketIfNotExists([]byte("ads/FR/w"))
		if err != nil {
			return err
		}
		return b.Put(seqKey(0), rec)
	}); err != nil {
		t.Fatal(err)
	}
	// A new page whose body spans lines: its line must still be one line.
	fresh := Page{Seq: 1, FetchedAt: at.Add(time.Second), RunID: "new", Endpoint: "ad/query", Request: json.RawMessage(`{"search_id":"s1"}`), Body: []byte("{\n  \"data\": {\"ads\": [1]}\n}\n")}
	if err := s.CommitPage(Shard{ID: "ads/FR/w"}, fresh); err != nil {
		t.Fatal(err)
	}
	got, err := s.Pending("ads/FR/w")
	if err != nil || len(got) != 2 {
		t.Fatalf("pending: %d pages, %v", len(got), err)
	}
	if g := got[0]; g.Seq != 0 || g.RunID != "old" || g.LogID != "L0" || !g.FetchedAt.Equal(at) || string(g.Body) != string(legacy.Body) || string(g.Request) != `{"max_count":50}` {
		t.Errorf("legacy page read back as %+v (body %s)", g, g.Body)
	}
	if g := got[1]; g.Seq != 1 || g.RunID != "new" || string(g.Body) != `{"data":{"ads":[1]}}` || g.Frame == nil {
		t.Errorf("new page read back as %+v (body %s)", g, g.Body)
	}
	line, err := s.dec.DecodeAll(got[1].Frame, nil)
	if err != nil || bytes.Count(line, []byte("\n")) != 1 || !bytes.HasSuffix(line, []byte("}\n")) {
		t.Errorf("frame holds %q (%v), want one JSON line", line, err)
	}
}
