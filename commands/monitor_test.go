package commands_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/manifest"
	"adharvest/tiktok/apitest"
)

// TestPlainResumeKeepsTheFolderSettings: a folder harvested from a local fake
// with --api-url, --detail-budget, --concurrency and --rps is resumed by a
// plain `harvest --out DIR` against the same fake (not the real host), within
// the same detail budget; a flag on the command line still wins.
func TestPlainResumeKeepsTheFolderSettings(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{})
	testkit.SetEnv(t, nil) // credentials only: the URL comes from --api-url
	os.Unsetenv("ADHARVEST_API_URL")
	dir := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCLI(t, "harvest", "--out", dir, "--api-url", srv.URL, "--retry-base", "1ms", "--progress", "none",
		"--datasets", "ads,ad-details", "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07",
		"--detail-budget", "5", "--concurrency", "2", "--rps", "0")
	if code != 75 {
		t.Fatalf("first run: exit %d, want 75 (the detail budget): %s", code, stderr)
	}
	m, err := manifest.Read(filepath.Join(dir, "manifest.json"))
	if err != nil || m.Settings == nil || m.Settings.DetailBudget != 5 || m.Settings.Concurrency != 2 || m.Settings.RPS != "0" {
		t.Fatalf("manifest settings %+v (%v): want budget 5, concurrency 2, rps 0", m.Settings, err)
	}
	details := func() int { return srv.Stats().ByEndpoint[apitest.EndpointAdDetail] }
	if details() != 5 {
		t.Fatalf("%d ad/detail calls, want the budget of 5", details())
	}

	// A plain resume: same fake, same budget.
	code, _, stderr = runCLI(t, "harvest", "--out", dir, "--retry-base", "1ms", "--progress", "log")
	if code != 75 || details() != 10 {
		t.Fatalf("plain resume: exit %d, %d ad/detail calls; want 75 and 10 (the fake, and the budget kept): %s", code, details(), stderr)
	}
	if !strings.Contains(stderr, "the API this folder was harvested from") {
		t.Errorf("the resume does not say which API it harvests from: %s", stderr)
	}
	// The command line wins: no budget now.
	code, _, stderr = runCLI(t, "harvest", "--out", dir, "--retry-base", "1ms", "--progress", "none", "--detail-budget", "0")
	if code != 0 {
		t.Fatalf("resume with --detail-budget 0: exit %d: %s", code, stderr)
	}
	if m, _ := manifest.Read(filepath.Join(dir, "manifest.json")); m.Settings.DetailBudget != 0 {
		t.Fatalf("the budget the last run was given is what the folder keeps: %+v", m.Settings)
	}
}

// TestCronLineExtendsTheJob: `harvest --out DIR --to yesterday` (nothing
// else) moves the folder's job on; the same with a later date given as
// flags extends it, and a changed filter is refused with one line.
func TestCronLineExtendsTheJob(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{})
	testkit.SetEnv(t, srv)
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := runCLI(t, harvestArgs(dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07")...); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	// A later --to with the same flags, and --countries left out: the
	// folder's countries, not EEA.
	if code, _, stderr := runCLI(t, harvestArgs(dir, "--from", "2024-01-01", "--to", "2024-01-10")...); code != 0 {
		t.Fatalf("later --to: exit %d: %s", code, stderr)
	}
	j, _, err := crawl.StoredJob(dir)
	if err != nil || j.Queries[0].To != "2024-01-10" || strings.Join(j.Queries[0].Countries, ",") != "FR" {
		t.Fatalf("stored job %+v (%v): want FR to 2024-01-10", j.Queries, err)
	}
	// --to alone.
	if code, _, stderr := runCLI(t, harvestArgs(dir, "--to", "2024-01-12")...); code != 0 {
		t.Fatalf("--to alone: exit %d: %s", code, stderr)
	}
	if j, _, _ := crawl.StoredJob(dir); j.Queries[0].To != "2024-01-12" || len(j.Queries[0].Segments) != 3 {
		t.Fatalf("stored job after --to alone: %+v", j.Queries[0])
	}
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"FR"}, "2024-01-01", "2024-01-12", ""), testkit.HarvestedAds(t, dir))
	n := srv.Stats().DataRequests
	code, _, stderr := runCLI(t, harvestArgs(dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-12", "--reach-min", "10K")...)
	if code != 2 || strings.Count(strings.TrimSpace(stderr), "\n") != 0 || !strings.Contains(stderr, "minimum reach") || !strings.Contains(stderr, "--restart") {
		t.Fatalf("changed filter: exit %d, stderr %q; want 2 and one line naming the minimum reach and --restart", code, stderr)
	}
	if srv.Stats().DataRequests != n {
		t.Fatal("a refused extension sent requests")
	}
	// --to yesterday is kept as the word.
	if code, _, stderr := runCLI(t, harvestArgs(dir, "--to", "yesterday", "--daily-quota", "1")...); code != 75 {
		t.Fatalf("--to yesterday with a quota of 1: exit %d, want 75: %s", code, stderr)
	}
	if j, _, _ := crawl.StoredJob(dir); j.Queries[0].ToWord != "yesterday" {
		t.Fatalf("stored job after --to yesterday: %+v", j.Queries[0])
	}
}
