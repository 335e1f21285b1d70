package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"adharvest/crawl"
	"adharvest/internal/failpoint"
	"adharvest/internal/testkit"
	"adharvest/queries"
	"adharvest/sink"
	"adharvest/tiktok/apitest"
)

// harvestArgs is a harvest of testkit.EveryDataset into dir by the binary,
// from the job file job, then extra.
func harvestArgs(job, dir string, extra ...string) []string {
	args := []string{"harvest", "--out", dir, "--job", job, "--retry-base", "1ms", "--progress", "none"}
	return append(args, extra...)
}

var (
	refOnce sync.Once
	refDir  string
	refErr  error
)

// reference harvests testkit.EveryDataset from a clean fake API, once for
// every test of the package (it is only read). The documented contradictions
// are deterministic per item, so quirks on both sides give the same rows.
func reference(t *testing.T) string {
	t.Helper()
	refOnce.Do(func() {
		srv := apitest.Start(apitest.Options{Quirks: true})
		defer srv.Close()
		refDir = filepath.Join(tmp, "reference")
		_, refErr = crawl.Run(context.Background(), testkit.Options(srv, refDir, testkit.EveryDatasetJob()))
	})
	if refErr != nil {
		t.Fatalf("clean reference run: %v", refErr)
	}
	return refDir
}

// resumeToReference resumes the harvest in dir with the binary, with no job
// flags, and requires it to finish with exactly the rows of ref.
func resumeToReference(t *testing.T, bin string, srv *apitest.Server, ref, dir, after string) {
	t.Helper()
	cmd := exec.Command(bin, "harvest", "--out", dir, "--retry-base", "1ms", "--rps", "0", "--progress", "none")
	cmd.Env = testkit.Env(srv)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("resume %s: %v\n%s", after, err, out)
	}
	testkit.SameTables(t, ref, dir)
}

// TestFailpointCrashes kills the binary at exact points of the commit protocol,
// checks that what is on disk at that instant reads cleanly (a torn file is
// never data), and that resuming gives the clean result.
func TestFailpointCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel() // nothing here is timed (only TestSignals must run alone)
	bin := binary(t)
	ref := reference(t)
	job := testkit.JobFile(t, testkit.EveryDataset)
	for _, fp := range []string{
		failpoint.PageFetched + ":3", failpoint.PageCommit + ":5", failpoint.PartWritten + ":2",
		failpoint.PartRenamed + ":4", failpoint.FlushCommit + ":3", failpoint.DetailCommit + ":7",
		failpoint.PartWritten + ":9", failpoint.FlushCommit + ":12",
	} {
		t.Run(fp, func(t *testing.T) {
			srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
			dir := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(bin, harvestArgs(job, dir, "--rps", "0", "--flush-pages", "1")...)
			cmd.Env = append(testkit.Env(srv), failpoint.Env+"="+fp+":kill")
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("failpoint %s did not kill the run: %v\n%s", fp, err, out)
			}
			// The crashed folder must read cleanly, torn temporary files and all.
			eng, err := queries.Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, tb := range sink.Tables {
				var n int
				if err := eng.DB().QueryRow("SELECT count(*) FROM " + tb.Name + "_all").Scan(&n); err != nil {
					t.Fatalf("%s after a crash at %s: %v", tb.Name, fp, err)
				}
			}
			eng.Close()
			resumeToReference(t, bin, srv, ref, dir, "after "+fp)
			testkit.NoTempFiles(t, dir)
		})
	}
}

func TestDiskFullStopsCleanlyAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	t.Parallel() // nothing here is timed (only TestSignals must run alone)
	bin := binary(t)
	ref := reference(t)
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	dir := filepath.Join(t.TempDir(), "out")
	cmd := exec.Command(bin, harvestArgs(testkit.JobFile(t, testkit.EveryDataset), dir, "--rps", "0", "--flush-pages", "1")...)
	cmd.Env = append(testkit.Env(srv), failpoint.Env+"="+failpoint.WriteFile+":6:enospc")
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 75 || !bytes.Contains(out, []byte("disk is full")) {
		t.Fatalf("full disk: exit %d (%v), want 75 naming the full disk:\n%s", code, err, out)
	}
	resumeToReference(t, bin, srv, ref, dir, "after a full disk")
	testkit.NoTempFiles(t, dir)
}
