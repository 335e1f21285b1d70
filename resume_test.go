package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/manifest"
	"adharvest/tiktok/apitest"
)

// TestQuotaStopThenResumeWithExpiredSearchIDs runs out of quota mid-crawl,
// waits until every stored search_id has expired, and resumes: the shards
// caught mid-chain must restart and the result must still be exact.
func TestQuotaStopThenResumeWithExpiredSearchIDs(t *testing.T) {
	srv := apitest.Start(apitest.Options{Quirks: true, DailyQuota: 60, SearchIDTTL: 300 * time.Millisecond})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	args := []string{"harvest", "--out", dir, "--countries", "FR,DE,IT", "--from", "2024-01-01", "--to", "2024-02-29",
		"--max-count", "10", "--concurrency", "1", "--retry-base", "1ms", "--rps", "0", "--progress", "none"}
	code, _, stderr := runCLI(t, args...)
	if code != 75 {
		t.Fatalf("exit %d, want 75 on a spent quota; stderr %q", code, stderr)
	}
	if !strings.Contains(stderr, "daily quota") || !strings.Contains(stderr, "00:00 UTC") || strings.Count(stderr, "\n") > 40 {
		t.Fatalf("quota message does not say when to resume: %q", stderr)
	}
	if n := srv.Stats().ByCode["daily_quota_limit_exceeded"]; n < 1 || n > 4 {
		t.Fatalf("%d quota errors: quota errors must not be retried", n)
	}
	man, err := manifest.Read(folder.New(dir).Manifest())
	if err != nil || man.Complete || man.Runs[0].Status != "stopped" {
		t.Fatalf("manifest after quota stop: %+v %v", man, err)
	}

	// Each "day" the quota comes back; by then every stored search_id is stale.
	days := 1
	for ; code != 0 && days < 40; days++ {
		time.Sleep(350 * time.Millisecond)
		srv.ResetQuota()
		code, _, stderr = runCLI(t, "harvest", "--out", dir, "--retry-base", "1ms", "--rps", "0", "--progress", "none")
		if code != 0 && code != 75 {
			t.Fatalf("resume: exit %d %s", code, stderr)
		}
	}
	if code != 0 {
		t.Fatalf("not finished after %d quota days", days)
	}
	t.Logf("finished after %d quota days", days)
	diffKeys(t, expectedAds(srv.Universe(), []string{"DE", "FR", "IT"}, "2024-01-01", "2024-02-29", ""), harvestedAds(t, dir))

	st, err := checkpoint.OpenReadOnly(folder.New(dir).Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	shards, _ := st.Shards()
	restarted := 0
	for _, s := range shards {
		restarted += s.Restarts
	}
	if restarted == 0 {
		t.Fatal("no shard restarted, so the expired-search_id path was not exercised")
	}
}

func TestEndlessEmptyPagesEndTheShard(t *testing.T) {
	srv := apitest.Start(apitest.Options{EndlessTerm: "forever"})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07",
		"--term", "forever", "--rps", "0", "--progress", "none")
	if code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	if n := srv.Stats().ByEndpoint["ad/query"]; n != 25 {
		t.Fatalf("%d requests for an endless empty chain, want the bound of 25", n)
	}
	st, _ := checkpoint.OpenReadOnly(folder.New(dir).Checkpoint())
	defer st.Close()
	shards, _ := st.Shards()
	if len(shards) != 1 || !strings.Contains(shards[0].Reason, "25 consecutive empty pages") {
		t.Fatalf("shard does not record why it ended: %+v", shards)
	}
}

func TestDifferentJobNeedsRestart(t *testing.T) {
	srv := apitest.Start(apitest.Options{})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	first := []string{"harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-14", "--rps", "0", "--progress", "none"}
	if code, _, stderr := runCLI(t, first...); code != 0 {
		t.Fatal(stderr)
	}
	other := []string{"harvest", "--out", dir, "--countries", "DE", "--from", "2024-01-01", "--to", "2024-01-14", "--rps", "0", "--progress", "none"}
	code, _, stderr := runCLI(t, other...)
	if code != 2 || !strings.Contains(stderr, "different job") || !strings.Contains(stderr, "--restart") {
		t.Fatalf("exit %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, first...); code != 0 {
		t.Fatalf("the same job again must be accepted: %s", stderr)
	}
	if code, _, stderr := runCLI(t, append(other, "--restart")...); code != 0 {
		t.Fatal(stderr)
	}
	diffKeys(t, expectedAds(srv.Universe(), []string{"DE"}, "2024-01-01", "2024-01-14", ""), harvestedAds(t, dir))
	if _, err := os.Stat(filepath.Join(dir, "ads", "country_code=FR")); !os.IsNotExist(err) {
		t.Fatal("--restart kept the old job's data")
	}
}

func TestSecondHarvestOnSameFolderIsRefused(t *testing.T) {
	srv := apitest.Start(apitest.Options{})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	lock, err := checkpoint.Acquire(folder.New(dir).Lock(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07", "--progress", "none")
	if code != 2 || !strings.Contains(stderr, "in use by adharvest pid") {
		t.Fatalf("exit %d %q", code, stderr)
	}
}

func TestSQLFormatsAndStatus(t *testing.T) {
	srv := apitest.Start(apitest.Options{Quirks: true})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07", "--rps", "0", "--progress", "none"); code != 0 {
		t.Fatal(stderr)
	}
	want := len(expectedAds(srv.Universe(), []string{"FR"}, "2024-01-01", "2024-01-07", ""))

	code, out, stderr := runCLI(t, "sql", "--out", dir, "--format", "json", "SELECT ad_id, country_code, first_shown_date FROM ads ORDER BY ad_id")
	if code != 0 {
		t.Fatal(stderr)
	}
	var rows []map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil || len(rows) != want {
		t.Fatalf("json: %d rows, want %d, %v", len(rows), want, err)
	}
	if rows[0]["country_code"] != "FR" || !strings.HasPrefix(rows[0]["first_shown_date"].(string), "2024-01-0") {
		t.Fatalf("row %v", rows[0])
	}

	code, out, _ = runCLI(t, "sql", "--out", dir, "--format", "csv", "SELECT count(*) AS n FROM ads")
	if code != 0 || strings.TrimSpace(out) != "n\n"+itoa(want) {
		t.Fatalf("csv %q", out)
	}
	code, _, stderr = runCLI(t, "sql", "--out", dir, "SELEC nonsense")
	if code != 2 || !strings.Contains(stderr, "syntax error") {
		t.Fatalf("bad SQL: exit %d %q", code, stderr)
	}

	code, out, _ = runCLI(t, "status", "--out", dir)
	if code != 0 || !strings.Contains(out, "ads") || !strings.Contains(out, " 1       1       0       0 ") {
		t.Fatalf("status:\n%s", out)
	}
}

func TestDemoWorksOffline(t *testing.T) {
	t.Setenv("TIKTOK_CLIENT_KEY", "")
	t.Setenv("TIKTOK_CLIENT_SECRET", "")
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, stderr := runCLI(t, "demo", "--out", dir, "--progress", "none")
	if code != 0 || !strings.Contains(out, "adharvest sql --out "+dir) {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	man, err := manifest.Read(folder.New(dir).Manifest())
	if err != nil || !man.Complete || man.Datasets["ads"].Rows == 0 {
		t.Fatalf("demo manifest %+v %v", man, err)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestRestartWithoutFlagsRestartsTheStoredJob(t *testing.T) {
	srv := apitest.Start(apitest.Options{})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07", "--rps", "0", "--progress", "none"); code != 0 {
		t.Fatal(stderr)
	}
	before := srv.Stats().DataRequests
	if code, _, stderr := runCLI(t, "harvest", "--out", dir, "--restart", "--rps", "0", "--progress", "none"); code != 0 {
		t.Fatalf("exit %d %s", code, stderr)
	}
	if srv.Stats().DataRequests == before {
		t.Fatal("--restart spent no requests, so nothing was harvested afresh")
	}
	diffKeys(t, expectedAds(srv.Universe(), []string{"FR"}, "2024-01-01", "2024-01-07", ""), harvestedAds(t, dir))
}

// TestRecentWindowsAreHarvestedAgain: days that were fresh when fetched may
// still be filling up, so the next run fetches them again and replaces them.
func TestRecentWindowsAreHarvestedAgain(t *testing.T) {
	srv := apitest.Start(apitest.Options{})
	defer srv.Close()
	setCreds(t, srv)
	dir := t.TempDir()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -20).Format("2006-01-02"), today.AddDate(0, 0, -1).Format("2006-01-02")
	args := []string{"harvest", "--out", dir, "--countries", "FR", "--from", from, "--to", to, "--rps", "0", "--progress", "none"}
	if code, _, stderr := runCLI(t, args...); code != 0 {
		t.Fatal(stderr)
	}
	first := srv.Stats().ByEndpoint["ad/query"]
	code, out, _ := runCLI(t, "status", "--out", dir)
	if code != 0 || !strings.Contains(out, "harvests them again") {
		t.Fatalf("status does not mention the provisional shards:\n%s", out)
	}
	if code, _, stderr := runCLI(t, args...); code != 0 {
		t.Fatal(stderr)
	}
	again := srv.Stats().ByEndpoint["ad/query"] - first
	if again == 0 || again >= first {
		t.Fatalf("second run spent %d ad/query requests (first %d): want only the recent windows again", again, first)
	}
	diffKeys(t, expectedAds(srv.Universe(), []string{"FR"}, from, to, ""), harvestedAds(t, dir))
}
