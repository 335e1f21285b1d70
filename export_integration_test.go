package main

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"adharvest/folder"
	"adharvest/internal/failpoint"
	"adharvest/queries"
	"adharvest/sink"
)

// Tests that kill `adharvest export` with SIGKILL: whatever the moment, the
// database file and the CSV folder are either absent or complete, and the
// next run removes what the killed one left (its temporary database and WAL,
// its half-written CSV files, its engine's placeholder folder in the system
// temporary directory) and needs no --force for it.

// exportSource writes a folder with 120,000 ads in 12 parts (enough rows for
// an export to take a while) and one ad detail; the other tables are empty,
// so an engine on it writes placeholder files.
func exportSource(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "harvest")
	p := sink.Provenance{SearchType: "keyword", FetchedAt: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), RunID: "r", ShardID: "s"}
	id := int64(1)
	for part := 0; part < 12; part++ {
		rows := make([]sink.AdRow, 10_000)
		for i := range rows {
			name := fmt.Sprintf("=Advertiser %d", id%977)
			rows[i] = sink.AdRow{AdFields: sink.AdFields{AdID: id, BusinessName: &name, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: p}
			id++
		}
		if err := sink.WriteParquet(folder.New(dir).Part(sink.Ads, []string{"FR", "DE", "IT"}[part%3], "x", part), rows); err != nil {
			t.Fatal(err)
		}
	}
	detail := []sink.AdDetailRow{{AdFields: sink.AdFields{AdID: 1, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: p}}
	if err := sink.WriteParquet(folder.New(dir).Part(sink.AdDetails, "", "details", 0), detail); err != nil {
		t.Fatal(err)
	}
	return dir
}

// exportRun is one export by the binary, with TMPDIR set to tmpDir so that
// the engine's temporary folders can be seen, and the failpoints armed.
func exportRun(bin, tmpDir, failpoints string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, append([]string{"export"}, args...)...)
	cmd.Env = append(os.Environ(), "TMPDIR="+tmpDir, failpoint.Env+"="+failpoints)
	cmd.Dir = tmpDir // DuckDB's own spill folder, if any, goes there
	return cmd
}

// killedBySIGKILL reports whether err is the exit of a process killed by SIGKILL.
func killedBySIGKILL(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// names lists the entries of dir ("" when it does not exist).
func names(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// checkAbsentOrComplete: the database and the CSV folder are each either
// absent or complete; nothing half-written ever has its final name.
func checkAbsentOrComplete(t *testing.T, dbFile, csvDir, when string) {
	t.Helper()
	if _, err := os.Stat(dbFile); err == nil {
		db, err := sql.Open("duckdb", dbFile+"?access_mode=read_only")
		if err != nil {
			t.Fatalf("%s: open %s: %v", when, dbFile, err)
		}
		var n int
		err = db.QueryRow("SELECT count(*) FROM duckdb_tables()").Scan(&n)
		db.Close()
		if err != nil || n != len(queries.ExportTableNames()) {
			t.Fatalf("%s: %s has %d tables (%v), want %d", when, dbFile, n, err, len(queries.ExportTableNames()))
		}
	}
	have := names(t, csvDir)
	if have == nil {
		if _, err := os.Stat(csvDir); err != nil {
			return // absent
		}
	}
	var want []string
	for _, n := range queries.ExportTableNames() {
		want = append(want, n+".csv")
	}
	if strings.Join(have, ",") != strings.Join(slices.Sorted(slices.Values(want)), ",") {
		t.Fatalf("%s: the CSV folder holds %v: a partial set under the final name", when, have)
	}
}

// checkNothingLeft: only the database and the CSV folder are in work, and no
// engine folder is in tmpDir.
func checkNothingLeft(t *testing.T, work, tmpDir string, want ...string) {
	t.Helper()
	if got := names(t, work); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds %v, want only %v", work, got, want)
	}
	for _, n := range names(t, tmpDir) {
		if strings.HasPrefix(n, "adharvest-") {
			t.Errorf("left in the temporary directory: %s", n)
		}
	}
}

func TestExportKilledLeavesNothingBehind(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel() // nothing here is timed
	bin := binary(t)
	src := exportSource(t)
	work, tmpDir := t.TempDir(), t.TempDir()
	dbFile, csvDir := filepath.Join(work, "h.duckdb"), filepath.Join(work, "csv")
	args := []string{"--out", src, "--duckdb", dbFile, "--csv", csvDir}

	// Killed as the third CSV file starts: two are written, the database is
	// complete but not yet renamed into place.
	if err := exportRun(bin, tmpDir, failpoint.WriteFile+":3:kill", args...).Run(); !killedBySIGKILL(err) {
		t.Fatalf("export was not killed at the third CSV file: %v", err)
	}
	checkAbsentOrComplete(t, dbFile, csvDir, "killed while writing CSV files")
	if len(names(t, work)) == 0 {
		t.Fatal("the killed export left nothing: the kill landed before it wrote anything")
	}
	t.Logf("left by a kill while writing CSV files: %v", names(t, work))

	// Killed while the engine writes its placeholder files.
	if err := exportRun(bin, tmpDir, "views-placeholder:2:kill", args...).Run(); !killedBySIGKILL(err) {
		t.Fatalf("export was not killed while opening: %v", err)
	}
	if left := names(t, tmpDir); len(left) == 0 {
		t.Fatal("the export killed while opening left no placeholder folder: the kill landed elsewhere")
	} else {
		t.Logf("left in the temporary directory by a kill while opening: %v", left)
	}

	// The next run needs no --force, and leaves only the two results.
	if out, err := exportRun(bin, tmpDir, "", args...).CombinedOutput(); err != nil {
		t.Fatalf("export after the kills: %v\n%s", err, out)
	}
	checkAbsentOrComplete(t, dbFile, csvDir, "after a clean run")
	checkNothingLeft(t, work, tmpDir, "csv", "h.duckdb")

	// Kills at random moments of runs that replace both (--force): after
	// each, both are the old export or the new one, never a mix or a part.
	start := time.Now()
	if out, err := exportRun(bin, tmpDir, "", append(args, "--force")...).CombinedOutput(); err != nil {
		t.Fatalf("export --force: %v\n%s", err, out)
	}
	took := time.Since(start)
	rng := newRand(t)
	kills := 0
	for i := 0; i < 12; i++ {
		cmd := exportRun(bin, tmpDir, "", append(args, "--force")...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d failed on its own: %v", i, err)
			}
		case <-time.After(time.Duration(rng.Int64N(int64(took)))):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
		checkAbsentOrComplete(t, dbFile, csvDir, fmt.Sprintf("kill %d", i))
	}
	t.Logf("%d random kills of a %v export", kills, took.Round(time.Millisecond))
	if out, err := exportRun(bin, tmpDir, "", append(args, "--force")...).CombinedOutput(); err != nil {
		t.Fatalf("export after random kills: %v\n%s", err, out)
	}
	checkNothingLeft(t, work, tmpDir, "csv", "h.duckdb")
}
