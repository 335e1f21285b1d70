package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"adharvest/internal/failpoint"
	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// TestReparseCrashes kills `adharvest reparse` midway, on a folder an older
// parser wrote (its ads lack the titles that raw/ holds, so the old tables
// and the new ones differ), and requires that what is on disk at that
// instant is the old tables or a swap that no reader is let to see
// half-done, and that the next command ends with exactly the tables of the
// harvest.
func TestReparseCrashes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel()
	bin := binary(t)
	ref := reference(t)
	run := func(t *testing.T, env []string, args ...string) (string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	killed := func(err error) bool {
		ee, ok := err.(*exec.ExitError)
		return ok && ee.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL
	}
	titles := func(t *testing.T, dir string) string {
		out, err := run(t, nil, "sql", "--out", dir, "--format", "csv", "SELECT count(title) FROM ads_all")
		if err != nil {
			t.Fatalf("sql: %v\n%s", err, out)
		}
		return strings.TrimSpace(out)
	}
	for _, tc := range []struct {
		fp string
		// then is the command that finishes the job after the crash.
		then []string
	}{
		{failpoint.ReparsePart + ":3", []string{"reparse"}},
		{failpoint.ReparseSwap + ":1", []string{"reparse"}},
		{failpoint.ReparseSwap + ":1", []string{"check", "--repair"}},
		{failpoint.ReparseSwap + ":1", []string{"harvest"}},
	} {
		t.Run(tc.fp+"/"+tc.then[0], func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "out")
			if out, err := exec.Command("cp", "-a", ref, dir).CombinedOutput(); err != nil {
				t.Fatalf("cp: %v\n%s", err, out)
			}
			testkit.DowngradeAdsParts(t, dir)
			old := titles(t, dir)
			out, err := run(t, []string{failpoint.Env + "=" + tc.fp + ":kill"}, "reparse", "--out", dir)
			if !killed(err) {
				t.Fatalf("failpoint %s did not kill the reparse: %v\n%s", tc.fp, err, out)
			}
			if strings.HasPrefix(tc.fp, failpoint.ReparsePart) {
				// Killed while staging: the old tables, whole.
				if got := titles(t, dir); got != old {
					t.Fatalf("after a kill while staging, ads has %s titles, want the old %s", got, old)
				}
			} else {
				// Killed mid-swap: no reader sees the tables until it is done.
				out, err := run(t, nil, "sql", "--out", dir, "SELECT 1")
				if err == nil || !strings.Contains(out, "reparse was interrupted") {
					t.Fatalf("sql on a half-swapped folder: %v\n%s", err, out)
				}
			}
			args := append(append([]string{}, tc.then...), "--out", dir)
			var env []string
			if tc.then[0] == "harvest" {
				srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
				env = testkit.Env(srv)
				args = append(args, "--progress", "none")
			}
			if out, err := run(t, env, args...); err != nil {
				t.Fatalf("%s after the crash: %v\n%s", tc.then[0], err, out)
			}
			testkit.SameTablesExactly(t, ref, dir)
			if out, err := run(t, nil, "check", "--out", dir); err != nil {
				t.Fatalf("check: %v\n%s", err, out)
			}
			testkit.NoTempFiles(t, dir)
		})
	}
}
