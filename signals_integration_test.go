package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// TestSignals stops the binary with SIGINT or SIGTERM mid-crawl: it must stop
// within a few seconds with exit 75, and a second SIGINT must end it at once.
// Either way the resumed harvest equals a clean one.
func TestSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := binary(t)
	ref := reference(t)
	job := testkit.JobFile(t, testkit.EveryDataset)
	for _, tc := range []struct {
		name    string
		signals []syscall.Signal
		within  time.Duration
	}{
		{"SIGINT", []syscall.Signal{syscall.SIGINT}, 5 * time.Second},
		{"SIGTERM", []syscall.Signal{syscall.SIGTERM}, 5 * time.Second},
		{"second SIGINT quits at once", []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Slow answers keep requests in flight when the signal lands.
			opts := apitest.Options{Quirks: true, Faults: apitest.Faults{Slow: 0.3, SlowDelay: 3 * time.Second}}
			srv := testkit.StartAPI(t, opts)
			dir := filepath.Join(t.TempDir(), "out")
			cmd := exec.Command(bin, harvestArgs(job, dir, "--rps", "20")...)
			cmd.Env = testkit.Env(srv)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1500 * time.Millisecond)
			start := time.Now()
			for _, s := range tc.signals {
				cmd.Process.Signal(s)
				time.Sleep(50 * time.Millisecond)
			}
			cmd.Wait()
			took := time.Since(start)
			if code := cmd.ProcessState.ExitCode(); code != 75 {
				t.Fatalf("exit %d after %v, want 75:\n%s", code, tc.signals, stderr.String())
			}
			if took > tc.within {
				t.Fatalf("took %s to stop, want under %s", took, tc.within)
			}
			t.Logf("%s: stopped in %s", tc.name, took.Round(time.Millisecond))
			srv.SetFaults(apitest.Faults{})
			resumeToReference(t, bin, srv, ref, dir, "after "+tc.name)
		})
	}
}
