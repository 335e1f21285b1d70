package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"adharvest/harvest/apitest"
	"adharvest/queries"
	"adharvest/sink"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds adharvest once per test run, for tests that need a real process
// to kill.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "adharvest-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "adharvest")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func binEnv(srv *apitest.Server) []string {
	return append(os.Environ(),
		"TIKTOK_CLIENT_KEY="+apitest.DefaultClientKey,
		"TIKTOK_CLIENT_SECRET="+apitest.DefaultClientSecret,
		"ADHARVEST_API_URL="+srv.URL)
}

// snapshot renders every fetched row, minus the columns that differ between
// runs by design (when and by which run it was fetched), in a stable order.
func snapshot(t *testing.T, dir, table string) []string {
	t.Helper()
	eng, err := queries.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rows, err := eng.DB().Query(fmt.Sprintf(`SELECT * EXCLUDE (fetched_at, run_id) FROM %s_all ORDER BY ALL`, table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func noTempFiles(t *testing.T, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), sink.TempPrefix) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

// TestCrashResumeIsExact kills the real binary with SIGKILL at random moments
// (during requests, Parquet writes and checkpoint commits alike), resumes until
// it exits 0, and requires exactly the rows of an uninterrupted run.
func TestCrashResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := binary(t)
	srv := apitest.Start(apitest.Options{Quirks: true, HolesRate: 0.05})
	defer srv.Close()
	args := func(out string) []string {
		return []string{"harvest", "--out", out, "--countries", "EEA", "--from", "2024-01-01", "--to", "2024-01-31",
			"--max-count", "20", "--flush-pages", "2", "--rps", "60", "--retry-base", "1ms", "--progress", "log"}
	}
	ref := filepath.Join(t.TempDir(), "ref")
	cmd := exec.Command(bin, append(args(ref), "--rps", "0")...)
	cmd.Env = binEnv(srv)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	refRequests := srv.Stats().DataRequests

	seed := uint64(time.Now().UnixNano())
	t.Logf("kill schedule seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 1))
	crash := filepath.Join(t.TempDir(), "crash")
	kills, finished := 0, false
	for attempt := 0; attempt < 40 && !finished; attempt++ {
		cmd := exec.Command(bin, args(crash)...)
		cmd.Env = binEnv(srv)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		wait := time.Duration(150+rng.IntN(900)) * time.Millisecond
		if kills >= 6 {
			wait = time.Minute // enough kills: let it finish
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d failed on its own: %v", attempt, err)
			}
			finished = true
		case <-time.After(wait):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
	}
	if !finished {
		t.Fatal("never finished")
	}
	if kills < 3 {
		t.Fatalf("only %d kills landed; the harvest is too quick for this test to mean anything", kills)
	}
	crashRequests := srv.Stats().DataRequests - refRequests
	t.Logf("%d kills; uninterrupted run %d requests, interrupted runs %d (%.2f extra per kill)",
		kills, refRequests, crashRequests, float64(crashRequests-refRequests)/float64(kills))

	want, got := snapshot(t, ref, "ads"), snapshot(t, crash, "ads")
	if len(want) == 0 {
		t.Fatal("reference harvest is empty")
	}
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("after %d kills the harvest differs: %d rows, want %d", kills, len(got), len(want))
	}
	noTempFiles(t, crash)
}
