package queries

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// deadPID is the pid of a process that has exited and been waited for.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.ProcessState.Pid()
}

// livePID is the pid of a process that runs until the test ends.
func livePID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd.Process.Pid
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSweepRemovesOnlyProvenLeftovers: a temporary name with the prefix of
// the target and the tag of a process that is gone is removed (files, WALs,
// folders); one of this process, of a live process, of another host, without
// a tag (an older version's) or of another target is kept.
func TestSweepRemovesOnlyProvenLeftovers(t *testing.T) {
	dir := t.TempDir()
	dead, live := strconv.Itoa(deadPID(t)), strconv.Itoa(livePID(t))
	self, host := strconv.Itoa(os.Getpid()), hostTag()
	gone := []string{
		".tmp-h.duckdb." + dead + "@" + host + "-123",
		".tmp-h.duckdb." + dead + "@" + host + "-123.wal",
		".tmp-h.duckdb." + dead + "@" + host + "-456/inside", // a folder
	}
	kept := []string{
		".tmp-h.duckdb." + self + "@" + host + "-1",
		".tmp-h.duckdb." + live + "@" + host + "-2",
		".tmp-h.duckdb." + dead + "@other-host-3",
		".tmp-h.duckdb-4",                             // no owner: an older version's
		".tmp-h.duckdb.x." + dead + "@" + host + "-5", // another target's
		"h.duckdb",
	}
	for _, n := range append(slices.Clone(gone), kept...) {
		touch(t, filepath.Join(dir, n))
	}
	if !sweepLeftovers(dir, ".tmp-h.duckdb.") {
		t.Error("nothing removed")
	}
	var left []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		left = append(left, e.Name())
	}
	slices.Sort(kept)
	if strings.Join(left, "\n") != strings.Join(kept, "\n") {
		t.Errorf("left\n%s\nwant\n%s", strings.Join(left, "\n"), strings.Join(kept, "\n"))
	}
}

// TestExportCSVIntoAFolderOfItsOwn: a CSV folder that holds other files is
// not replaced: the set is moved in beside them. A partial set with the
// marker of a killed export is replaced without Force, and the marker goes.
func TestExportCSVIntoAFolderOfItsOwn(t *testing.T) {
	ctx := context.Background()
	e := open(t, writeDataset(t))
	csvDir := filepath.Join(t.TempDir(), "csv")
	touch(t, filepath.Join(csvDir, "notes.txt"))
	if _, err := e.Export(ctx, ExportOptions{CSVDir: csvDir}); err != nil {
		t.Fatal(err)
	}
	want := []string{"notes.txt"}
	for _, n := range ExportTableNames() {
		want = append(want, n+".csv")
	}
	slices.Sort(want)
	list := func() string {
		ents, _ := os.ReadDir(csvDir)
		var have []string
		for _, e := range ents {
			have = append(have, e.Name())
		}
		return strings.Join(have, ",")
	}
	if got := list(); got != strings.Join(want, ",") {
		t.Fatalf("CSV folder holds %s, want %s", got, strings.Join(want, ","))
	}
	if _, err := e.Export(ctx, ExportOptions{CSVDir: csvDir}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("a complete set replaced without Force: %v", err)
	}

	// What a kill in the middle of the move leaves: the marker, part of a set.
	marker := filepath.Join(csvDir, markerPrefix+strconv.Itoa(deadPID(t))+"@"+hostTag()+"-7")
	touch(t, marker)
	if err := os.Remove(filepath.Join(csvDir, "ads.csv")); err != nil {
		t.Fatal(err)
	}
	if err := CheckExportTargets(ExportOptions{CSVDir: csvDir}); err != nil {
		t.Fatalf("a partial set is refused: %v", err)
	}
	if _, err := e.Export(ctx, ExportOptions{CSVDir: csvDir}); err != nil {
		t.Fatal(err)
	}
	if got := list(); got != strings.Join(want, ",") {
		t.Fatalf("after replacing a partial set: %s, want %s", got, strings.Join(want, ","))
	}
}

// TestWriteFileAtomicRemovesLeftovers: writing a file removes the temporary
// files that killed writes of the same file left, and only those.
func TestWriteFileAtomicRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "o.csv")
	dead := ".tmp-o.csv." + strconv.Itoa(deadPID(t)) + "@" + hostTag() + "-9"
	other := ".tmp-p.csv." + strconv.Itoa(deadPID(t)) + "@" + hostTag() + "-9"
	touch(t, filepath.Join(dir, dead))
	touch(t, filepath.Join(dir, other))
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := io.WriteString(w, "a\n"); return err }); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	var left []string
	for _, e := range ents {
		left = append(left, e.Name())
	}
	if strings.Join(left, ",") != other+",o.csv" {
		t.Errorf("left %v, want %s and o.csv", left, other)
	}
	if b, _ := os.ReadFile(path); string(b) != "a\n" {
		t.Errorf("o.csv holds %q", b)
	}
}
