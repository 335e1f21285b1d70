package main

// Tests that must run the real binary and kill it: with SIGKILL at random
// moments (this file), at named points of the commit protocol or on a full
// disk (failpoint_integration_test.go), and with SIGINT and SIGTERM
// (signals_integration_test.go). Everything else is tested in the packages,
// in-process.
//
// The crash tests run in parallel with each other: a slower run only gives
// the kills more to hit. TestSignals, which times how fast the binary stops,
// runs alone, before them.

import (
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

	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// tmp holds what the tests of this package share: the binary and the
// reference harvest. TestMain removes it.
var tmp string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "adharvest-integration-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	tmp = dir
	code := m.Run()
	os.RemoveAll(tmp)
	os.Exit(code)
}

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
		binPath = filepath.Join(tmp, "adharvest")
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

// killUntilDone runs the binary with args again and again, SIGKILLing it after
// a random delay, until it has been killed kills times; then it lets it finish.
// It returns when each kill landed.
func killUntilDone(t *testing.T, bin string, env, args []string, kills int, rng *rand.Rand) []time.Time {
	t.Helper()
	var landed []time.Time
	for attempt := 0; attempt < 60; attempt++ {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		wait := time.Duration(150+rng.IntN(900)) * time.Millisecond
		if len(landed) >= kills {
			wait = 2 * time.Minute // enough kills: let it finish
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run %d failed on its own: %v", attempt, err)
			}
			return landed
		case <-time.After(wait):
			cmd.Process.Signal(syscall.SIGKILL)
			landed = append(landed, time.Now())
			<-done
		}
	}
	t.Fatal("never finished")
	return nil
}

func newRand(t *testing.T) *rand.Rand {
	seed := uint64(time.Now().UnixNano())
	t.Logf("kill schedule seed %d", seed)
	return rand.New(rand.NewPCG(seed, 1))
}

// TestCrashResumeIsExact kills the real binary with SIGKILL at random moments
// (during requests, Parquet writes and checkpoint commits alike), resumes until
// it exits 0, and requires exactly the rows of an uninterrupted run.
func TestCrashResumeIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel() // nothing here is timed (only TestSignals must run alone)
	bin := binary(t)
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true, HolesRate: 0.05})
	args := func(out string) []string {
		return []string{"harvest", "--out", out, "--countries", "EEA", "--from", "2024-01-01", "--to", "2024-01-31",
			"--max-count", "20", "--flush-pages", "2", "--rps", "60", "--retry-base", "1ms", "--progress", "log"}
	}
	ref := filepath.Join(t.TempDir(), "ref")
	cmd := exec.Command(bin, append(args(ref), "--rps", "0")...)
	cmd.Env = testkit.Env(srv)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	refRequests := srv.Stats().DataRequests

	crash := filepath.Join(t.TempDir(), "crash")
	kills := len(killUntilDone(t, bin, testkit.Env(srv), args(crash), 6, newRand(t)))
	if kills < 3 {
		t.Fatalf("only %d kills landed; the harvest is too quick for this test to mean anything", kills)
	}
	crashRequests := srv.Stats().DataRequests - refRequests
	t.Logf("%d kills; uninterrupted run %d requests, interrupted runs %d (%.2f extra per kill)",
		kills, refRequests, crashRequests, float64(crashRequests-refRequests)/float64(kills))

	want, got := testkit.Rows(t, ref, "ads"), testkit.Rows(t, crash, "ads")
	if len(want) == 0 {
		t.Fatal("reference harvest is empty")
	}
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		t.Fatalf("after %d kills the harvest differs: %d rows, want %d", kills, len(got), len(want))
	}
	testkit.NoTempFiles(t, crash)
}

// TestCrashDuringDetailsFanOut kills the ad/detail fan-out mid-way: after
// resuming, every table equals an uninterrupted run, and an ad's detail is
// fetched again only if a kill caught its request in flight.
func TestCrashDuringDetailsFanOut(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	t.Parallel() // nothing here is timed (only TestSignals must run alone)
	bin := binary(t)
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	const concurrency = 4
	args := func(out string) []string {
		return []string{"harvest", "--out", out, "--datasets", "ads,ad-details", "--countries", "FR,DE,IT", "--from", "2024-01-01", "--to", "2024-01-31",
			"--rps", "80", "--concurrency", fmt.Sprint(concurrency), "--retry-base", "1ms", "--progress", "log"}
	}
	ref := filepath.Join(t.TempDir(), "ref")
	cmd := exec.Command(bin, append(args(ref), "--rps", "0")...)
	cmd.Env = testkit.Env(srv)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	before := len(srv.Requests())

	crash := filepath.Join(t.TempDir(), "crash")
	killTimes := killUntilDone(t, bin, testkit.Env(srv), args(crash), 5, newRand(t))
	kills := len(killTimes)
	fetched := map[string]int{}
	detailCalls := 0
	var firstDetail time.Time
	for _, r := range srv.Requests()[before:] {
		if r.Endpoint == "ad/detail" && r.Status == 200 {
			if firstDetail.IsZero() {
				firstDetail = r.Time
			}
			fetched[string(r.Body)]++
			detailCalls++
		}
	}
	if firstDetail.IsZero() || !killTimes[len(killTimes)-1].After(firstDetail) {
		t.Fatal("no kill landed during the ad/detail fan-out")
	}
	twice := detailCalls - len(fetched)
	t.Logf("%d kills; %d ad/detail calls for %d ads (%d fetched again)", kills, detailCalls, len(fetched), twice)
	if twice > kills*concurrency {
		t.Fatalf("%d details fetched twice after %d kills: more than the requests a kill can catch in flight", twice, kills)
	}
	for _, table := range []string{"ads", "ad_details", "ad_detail_reach_by_country", "ad_detail_target_countries", "ad_detail_target_ages", "ad_detail_target_genders"} {
		want, got := testkit.Rows(t, ref, table), testkit.Rows(t, crash, table)
		if len(want) == 0 {
			t.Fatalf("%s: reference is empty", table)
		}
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			t.Fatalf("%s differs after %d kills: %d rows, want %d", table, kills, len(got), len(want))
		}
	}
	testkit.NoTempFiles(t, crash)
}
