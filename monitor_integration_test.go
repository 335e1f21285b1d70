package main

import (
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"adharvest/internal/failpoint"
	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// TestCrashWhileKeepingObservations kills the binary after the rows of a
// provisional slice are copied to ad_observations and before the slice starts
// again. The next run repeats the copy under the same name: every fetch of an
// ad stays one observation, none is lost and none counted twice.
func TestCrashWhileKeepingObservations(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel()
	bin := binary(t)
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true, Density: 10})
	dir := filepath.Join(t.TempDir(), "out")
	today := time.Now().UTC()
	harvest := func(env ...string) ([]byte, error) {
		cmd := exec.Command(bin, "harvest", "--out", dir, "--countries", "FR,DE", "--from", today.AddDate(0, 0, -6).Format("2006-01-02"),
			"--to", "yesterday", "--retry-base", "1ms", "--rps", "0", "--progress", "none")
		cmd.Env = append(testkit.Env(srv), env...)
		return cmd.CombinedOutput()
	}
	if out, err := harvest(); err != nil {
		t.Fatalf("first run: %v\n%s", err, out)
	}
	db := testkit.Open(t, dir)
	first := testkit.Int(t, db, "SELECT count(*) FROM ads WHERE first_shown_date >= current_date - 3")
	if first == 0 {
		t.Fatal("no ads in the provisional days: the test means nothing")
	}
	// The second run fetches the provisional days again; it dies right
	// after keeping the first replaced slice's rows.
	out, err := harvest(failpoint.Env + "=" + failpoint.ObservationsKept + ":1:kill")
	if ee, ok := err.(*exec.ExitError); !ok || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the failpoint did not kill the run: %v\n%s", err, out)
	}
	if out, err := harvest(); err != nil {
		t.Fatalf("run after the crash: %v\n%s", err, out)
	}
	db = testkit.Open(t, dir)
	// Each provisional slice was fetched by the first run and by the last:
	// two observations of each of its ads, by two runs, none twice.
	if n := testkit.Int(t, db, `SELECT count(*) FROM (SELECT ad_id, country_code, shard_id, fetched_at FROM ad_observations_all GROUP BY ALL HAVING count(*) > 1)`); n != 0 {
		t.Errorf("%d observations counted twice", n)
	}
	if n := testkit.Int(t, db, `SELECT count(*) FROM (SELECT ad_id, country_code, shard_id FROM ad_observations WHERE source = 'ad/query' AND shard_id IN (SELECT slice_id FROM coverage WHERE window_start = window_end) GROUP BY ALL HAVING count(DISTINCT run_id) <> 2)`); n != 0 {
		t.Errorf("%d ads of a provisional day do not have one observation by each run that fetched it", n)
	}
	testkit.NoTempFiles(t, dir)
}
