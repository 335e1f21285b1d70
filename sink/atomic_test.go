package sink

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "sub", "a.parquet")
	write := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	if err := WriteFileAtomic(p, write("one")); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(p, write("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("content %q, want the second write to replace the first", b)
	}
	boom := errors.New("disk full")
	err := WriteFileAtomic(p, func(w io.Writer) error { io.WriteString(w, "partial"); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Fatalf("failed write changed the file to %q", b)
	}
	entries, _ := os.ReadDir(filepath.Dir(p))
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestDay(t *testing.T) {
	for in, want := range map[string]int32{"1970-01-01": 0, "1970-01-02": 1, "1969-12-31": -1, "2024-01-01": 19723} {
		d, _ := time.Parse("2006-01-02", in)
		if got := *Day(d); got != want {
			t.Errorf("Day(%s) = %d, want %d", in, got, want)
		}
	}
}
