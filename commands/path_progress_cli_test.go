package commands_test

import (
	"path/filepath"
	"strings"
	"testing"

	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// TestHarvestShowsTheWholeJobFirst: before the first request, the harvest
// says per dataset what the job holds, with "≥" where slices are planned
// as ad/report answers come in.
func TestHarvestShowsTheWholeJobFirst(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	testkit.SetEnv(t, srv)
	dir := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCLI(t, "harvest", "--out", dir, "--retry-base", "1ms", "--rps", "0", "--progress", "log",
		"--datasets", "ads,ad-reports,advertisers", "--countries", "FR,DE", "--from", "2024-01-01", "--to", "2024-01-31", "--term", "coffee")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	first := strings.SplitN(stderr, "\n", 2)[0]
	for _, want := range []string{"ads ≥", "slices", "ad-reports 2 reports", "advertisers 1 search"} {
		if !strings.Contains(first, want) {
			t.Errorf("the first line %q does not say %q", first, want)
		}
	}
	if strings.Contains(first, "1 searches") {
		t.Errorf("the first line %q: 1 searches", first)
	}
}
