package commands_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// jobHash is the job_hash that dir/manifest.json records.
func jobHash(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		JobHash string `json:"job_hash"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.JobHash == "" {
		t.Fatalf("%s/manifest.json has no job_hash", dir)
	}
	return m.JobHash
}

// TestJobFileMatchesFlags harvests one job described by flags and by a job
// file: the same rows, the same job_hash.
func TestJobFileMatchesFlags(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	testkit.SetEnv(t, srv)
	u := srv.Universe()
	const from, to, term = "2024-01-01", "2024-01-14", "coffee"

	// An advertiser that publishes often, so the filtered shards hold rows.
	adv := u.AllAdvertisers()[0]
	user := u.CreatorsIn("FR")[0]
	job := testkit.JobFile(t, fmt.Sprintf(`# the flags run below, as a job file
datasets: ads,ad-reports
window: 7d
max_count: 20
countries: [FR, DE]
from: %s
to: %s
terms: [%s]
search_type: exact_phrase
advertiser_ids: [%d]
creator_usernames: [%s]
reach_min: 1K
reach_max: 10M
`, from, to, term, adv.BusinessID, user))
	byJob := filepath.Join(t.TempDir(), "job")
	byFlags := filepath.Join(t.TempDir(), "flags")
	if code, _, stderr := runCLI(t, harvestArgs(byJob, "--job", job)...); code != 0 {
		t.Fatalf("--job: exit %d: %s", code, stderr)
	}
	if code, _, stderr := runCLI(t, harvestArgs(byFlags, "--datasets", "ads,ad-reports", "--window", "7d", "--max-count", "20",
		"--countries", "FR,DE", "--from", from, "--to", to, "--term", term, "--search-type", "exact_phrase",
		"--advertiser-id", strconv.FormatInt(adv.BusinessID, 10), "--creator-username", user, "--reach-min", "1K", "--reach-max", "10M")...); code != 0 {
		t.Fatalf("flags: exit %d: %s", code, stderr)
	}
	for _, table := range []string{"ads", "ad_reports"} {
		a, b := testkit.Rows(t, byJob, table), testkit.Rows(t, byFlags, table)
		if len(a) == 0 {
			t.Errorf("%s_all is empty: the comparison means nothing", table)
		}
		if strings.Join(a, "\n") != strings.Join(b, "\n") {
			t.Errorf("%s_all differs: %d rows from the job file, %d from flags", table, len(a), len(b))
		}
	}
	if a, b := jobHash(t, byJob), jobHash(t, byFlags); a != b {
		t.Errorf("manifest job_hash %s from the job file, %s from flags", a, b)
	}
}

// TestQuotaStopSaysWhenToResume: a harvest that runs out of the API's daily
// quota exits 75 and says, briefly, when to resume. (The resume itself is
// crawl's TestQuotaStopThenResumeWithExpiredSearchIDs.)
func TestQuotaStopSaysWhenToResume(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true, DailyQuota: 60, SearchIDTTL: 300 * time.Millisecond})
	testkit.SetEnv(t, srv)
	dir := t.TempDir()
	code, _, stderr := runCLI(t, harvestArgs(dir, "--countries", "FR,DE,IT", "--from", "2024-01-01", "--to", "2024-02-29",
		"--max-count", "10", "--concurrency", "1")...)
	if code != 75 {
		t.Fatalf("exit %d, want 75 on a spent quota; stderr %q", code, stderr)
	}
	if !strings.Contains(stderr, "daily quota") || !strings.Contains(stderr, "00:00 UTC") || strings.Count(stderr, "\n") > 40 {
		t.Fatalf("quota message does not say when to resume: %q", stderr)
	}
}

// TestWarningsStandOnTheirOwnLines: a warning about the job is printed once,
// on a line of its own. (crawl's TestAllDatasetsEndToEnd checks it is given
// for a harvest of every dataset.)
func TestWarningsStandOnTheirOwnLines(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	testkit.SetEnv(t, srv)
	dir := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCLI(t, harvestArgs(dir, "--datasets", "ads,commercial-content", "--countries", "FR,GB",
		"--from", "2024-01-01", "--to", "2024-01-07")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	const msg = "commercial-content skips GB"
	if n := strings.Count(stderr, msg); n != 1 {
		t.Fatalf("stderr names %q %d times, want once:\n%s", msg, n, stderr)
	}
	for _, line := range strings.Split(stderr, "\n") {
		if strings.Contains(line, msg) && !strings.HasPrefix(line, "adharvest: warning: ") {
			t.Errorf("warning line %q does not stand on its own line", line)
		}
	}
}
