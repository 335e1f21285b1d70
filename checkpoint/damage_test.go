package checkpoint

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestRandomDamageNeverCrashes scribbles over a checkpoint at random places,
// as a failing disk or a bad copy would, and opens it both ways. A damaged
// file may be readable or a *CorruptError, but it must never crash the
// process: page ids that point outside the file made bbolt's own checker
// fault (SIGSEGV, which no recover catches) in a goroutine of its own.
func TestRandomDamageNeverCrashes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "checkpoint.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		if err := s.SaveShard(Shard{ID: fmt.Sprintf("ads/FR/%05d", i), Status: StatusDone, Reason: "some text to fill pages"}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	good, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const pageSize = 4096
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		b := append([]byte(nil), good...)
		// Page ids (8 bytes) far beyond the file are what faults: write
		// them where branch and leaf elements keep theirs, past the meta pages.
		for range 1 + rng.IntN(8) {
			off := 2*pageSize + rng.IntN(len(b)-2*pageSize-8)
			binary.LittleEndian.PutUint64(b[off:], rng.Uint64N(1<<20))
		}
		q := filepath.Join(dir, fmt.Sprintf("damaged-%03d.db", i))
		if err := os.WriteFile(q, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if s, err := OpenReadOnly(q); err == nil {
			s.Shards()
			s.Close()
		}
		if s, err := Open(q); err == nil {
			s.Shards()
			s.Close()
		}
		os.Remove(q)
	}
}
