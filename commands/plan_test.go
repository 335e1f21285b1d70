package commands_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// plan --json prints the object shared/cli.md fixes, sends only ad/report,
// and with --out keeps the answers for the harvest.
func TestPlanCommand(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	testkit.SetEnv(t, srv)
	args := []string{"plan", "--countries", "FR,DE", "--from", "2024-01-01", "--to", "2024-01-31", "--datasets", "ads,ad-reports", "--retry-base", "1ms", "--rps", "0"}
	code, out, stderr := runCLI(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	var e struct {
		Datasets []struct {
			Dataset         string `json:"dataset"`
			ExpectedRecords *int64 `json:"expected_records"`
			Slices          *int   `json:"slices"`
			Requests        *int   `json:"requests"`
		} `json:"datasets"`
		TotalRequests  *int `json:"total_requests"`
		ReportRequests *int `json:"report_requests"`
	}
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatalf("plan --json is not JSON: %v\n%s", err, out)
	}
	if e.TotalRequests == nil || e.ReportRequests == nil || *e.ReportRequests != 2 || len(e.Datasets) != 2 {
		t.Fatalf("plan --json: %s", out)
	}
	for _, d := range e.Datasets {
		if d.ExpectedRecords == nil || d.Slices == nil || d.Requests == nil {
			t.Errorf("dataset %q lacks a field: %s", d.Dataset, out)
		}
	}
	if n := srv.Stats().DataRequests; n != srv.Stats().ByEndpoint[apitest.EndpointAdReport] {
		t.Errorf("plan sent %d requests that are not ad/report", n-srv.Stats().ByEndpoint[apitest.EndpointAdReport])
	}

	// As a table, with --out and a daily quota.
	dir := filepath.Join(t.TempDir(), "out")
	code, out, stderr = runCLI(t, append(args, "--out", dir, "--daily-quota", "10")...)
	if code != 0 {
		t.Fatalf("plan --out: exit %d: %s", code, stderr)
	}
	for _, want := range []string{"dataset", "country", "expected", "FR", "DE", "total:", "kept in the folder", "at --daily-quota 10:"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q:\n%s", want, out)
		}
	}
	before := srv.Stats().ByEndpoint[apitest.EndpointAdReport]
	if code, _, stderr := runCLI(t, harvestArgs(dir)...); code != 0 {
		t.Fatalf("harvest after plan: exit %d: %s", code, stderr)
	}
	if n := srv.Stats().ByEndpoint[apitest.EndpointAdReport] - before; n != 0 {
		t.Errorf("the harvest asked ad/report again %d times after plan --out", n)
	}

	// Bad input is one line, exit 2, nothing sent.
	sent := srv.Stats().DataRequests
	code, _, stderr = runCLI(t, "plan", "--countries", "XX", "--from", "2024-01-01", "--to", "2024-01-31")
	if code != 2 || strings.Count(stderr, "\n") != 1 || srv.Stats().DataRequests != sent {
		t.Errorf("plan with a bad country: exit %d, %q", code, stderr)
	}
}
