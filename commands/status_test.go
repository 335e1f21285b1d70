package commands_test

import (
	"context"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/commands"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/tiktok/apitest"
)

// TestStatusReportsFailuresAndRunningHarvests checks what status shows: per
// dataset counts with failed shards, the last error with its log_id, and a
// useful answer while another harvest holds the folder.
func TestStatusReportsFailuresAndRunningHarvests(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Faults: apitest.Faults{Err500: 1}})
	testkit.SetEnv(t, srv)
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07", "--retry-base", "1ms", "--rps", "0", "--progress", "none")
	if code != 1 || !strings.Contains(stderr, "run the same command again") {
		t.Fatalf("a shard that keeps failing: exit %d %q", code, stderr)
	}
	code, out, _ := runCLI(t, "status", "--out", dir)
	if code != 0 || !strings.Contains(out, "      1       0       0       1") || !strings.Contains(out, "log_id") || !strings.Contains(out, "internal_error") {
		t.Fatalf("status after a failure:\n%s", out)
	}

	// While a harvest runs, status reads the manifest that run keeps fresh.
	// The harvest runs in this process: its locks (the folder's flock and
	// the checkpoint's) keep status out just as another process's would.
	slow := testkit.StartAPI(t, apitest.Options{})
	running := filepath.Join(t.TempDir(), "running")
	j := job.Job{Queries: []job.Query{{Countries: []string{"EEA"}, From: "2024-01-01", To: "2024-03-31"}}}
	h := &commands.HarvestCommand{
		Out: running, Job: &j, APIURL: slow.URL, ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret,
		Concurrency: 4, RPS: 20, FlushPages: 20, Progress: "none", Stdout: io.Discard, Stderr: io.Discard,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out, stderr = runCLI(t, "status", "--out", running)
		if code == 0 && strings.Contains(out, "being harvested by adharvest pid") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status on a running harvest: exit %d\n%s%s", code, out, stderr)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if !strings.Contains(out, "ads") || !strings.Contains(out, "requests") {
		t.Fatalf("status while running:\n%s", out)
	}
}

// TestStatusShowsTheDailyQuota: a harvest stopped by its own --daily-quota
// exits 75 naming the flag, and status --daily-quota shows the budget spent.
// (crawl's TestDailyQuotaBudgetAddsUpAcrossRuns checks the budget itself.)
func TestStatusShowsTheDailyQuota(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{})
	testkit.SetEnv(t, srv)
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR,DE,IT", "--from", "2024-01-01", "--to", "2024-02-29", "--max-count", "10",
		"--daily-quota", "25", "--rps", "0", "--progress", "none")
	if code != 75 || !strings.Contains(stderr, "--daily-quota") {
		t.Fatalf("exit %d %q", code, stderr)
	}
	code, out, _ := runCLI(t, "status", "--out", dir, "--daily-quota", "25")
	if code != 0 || !strings.Contains(out, "25 of 25 today") {
		t.Fatalf("status:\n%s", out)
	}
}

// TestStatusNamesProvisionalShards: status says that windows fetched while
// recent are harvested again. (crawl's TestRecentWindowsAreHarvestedAgain
// checks that they are.)
func TestStatusNamesProvisionalShards(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{})
	testkit.SetEnv(t, srv)
	dir := t.TempDir()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -20).Format("2006-01-02"), today.AddDate(0, 0, -1).Format("2006-01-02")
	if code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", from, "--to", to, "--rps", "0", "--progress", "none"); code != 0 {
		t.Fatal(stderr)
	}
	code, out, _ := runCLI(t, "status", "--out", dir)
	if code != 0 || !strings.Contains(out, "harvests them again") {
		t.Fatalf("status does not mention the provisional shards:\n%s", out)
	}
}
