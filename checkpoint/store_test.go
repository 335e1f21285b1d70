package checkpoint

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestPagesAndFlushSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(filepath.Join(dir, "checkpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	sh := Shard{ID: "ads/FR/w", Dataset: "ads", Status: StatusRunning, RequestHash: "h"}
	bodies := [][]byte{[]byte(`{"data":{"ads":[1]}}`), []byte(`"` + strings.Repeat("x", 100_000) + `"`)}
	for i, b := range bodies {
		sh.Pages = i + 1
		sh.NextSearchID = "sid" + strconv.Itoa(i)
		if err := s.CommitPage(sh, Page{Seq: i, Body: b, RunID: "r1", FetchedAt: time.Unix(100, 0).UTC()}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()

	s, err = Open(filepath.Join(dir, "checkpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, ok, err := s.Shard(sh.ID)
	if err != nil || !ok || got.Pages != 2 || got.NextSearchID != "sid1" {
		t.Fatalf("shard after reopen = %+v %v %v", got, ok, err)
	}
	pend, err := s.Pending(sh.ID)
	if err != nil || len(pend) != 2 || !bytes.Equal(pend[1].Body, bodies[1]) || pend[0].RunID != "r1" {
		t.Fatalf("pending = %d pages, %v", len(pend), err)
	}
	got.Parts, got.Rows, got.Status = 1, 1, StatusDone
	if err := s.CommitFlush(got, Flushed{}); err != nil {
		t.Fatal(err)
	}
	if pend, _ := s.Pending(sh.ID); len(pend) != 0 {
		t.Fatalf("%d pages still pending after flush", len(pend))
	}
	if got, _, _ := s.Shard(sh.ID); got.Parts != 1 || got.Status != StatusDone {
		t.Fatalf("after flush %+v", got)
	}
}

func TestTakeUsageIsExactUnderConcurrency(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "checkpoint.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, err := s.TakeUsage("2024-01-01", "ad/query", 20); err == nil && ok {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if granted != 20 {
		t.Fatalf("granted %d requests under a budget of 20", granted)
	}
	if n, _ := s.Usage("2024-01-01"); n != 20 {
		t.Fatalf("usage %d", n)
	}
	if _, ok, _ := s.TakeUsage("2024-01-02", "ad/query", 20); !ok {
		t.Fatal("a new UTC day starts a new budget")
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Usage("2024-01-01"); n != 20 {
		t.Fatal("--restart must not forget quota already spent")
	}
}

func TestLockExcludesSecondOwner(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(filepath.Join(dir, "lock"), dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(filepath.Join(dir, "lock"), dir)
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrBusy) {
		t.Fatalf("second acquire: %v", err)
	}
	if le.Owner.PID != os.Getpid() || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Fatalf("message does not name the owner: %v", err)
	}
	l.Release()
	l2, err := Acquire(filepath.Join(dir, "lock"), dir)
	if err != nil {
		t.Fatalf("lock not reusable after release: %v", err)
	}
	l2.Release()
}

func TestReadOnlyNeedsExistingCheckpoint(t *testing.T) {
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "checkpoint.db")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

// A truncated or overwritten checkpoint is reported as *CorruptError, by
// Open and OpenReadOnly alike, and never panics (bbolt asserts on damaged
// pages).
func TestDamagedCheckpointIsACorruptError(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "checkpoint.db")
	s, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 300; i++ {
		if err := s.SaveShard(Shard{ID: fmt.Sprintf("ads/FR/%05d", i), Status: StatusDone}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	good, _ := os.ReadFile(p)
	scribble := func(from, to int) []byte {
		b := bytes.Clone(good)
		for i := from; i < to && i < len(b); i++ {
			b[i] = 0xAB
		}
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"truncated to half", good[:len(good)/2]},
		{"truncated to 100 bytes", good[:100]},
		{"a page scribbled over", scribble(8192, 12288)},
		{"both meta pages scribbled over", scribble(0, 8192)},
		{"not a database", []byte("hello, this is not bbolt\n")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := os.WriteFile(p, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			for name, open := range map[string]func(string) (*Store, error){"Open": Open, "OpenReadOnly": OpenReadOnly} {
				s, err := open(p)
				var ce *CorruptError
				if !errors.As(err, &ce) {
					if s != nil {
						s.Close()
					}
					t.Fatalf("%s: err %v, want *CorruptError", name, err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("%s: message is not one line: %q", name, err)
				}
			}
		})
	}
}
