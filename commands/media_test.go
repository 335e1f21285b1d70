package commands_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// mediaArgs is a media run of dir with fast retries, no rate limit and no
// progress output, then extra.
func mediaArgs(dir string, extra ...string) []string {
	return append([]string{"media", "--out", dir, "--retry-base", "1ms", "--rps", "0", "--progress", "none", "--max-file-size", "1MiB"}, extra...)
}

func TestMediaCommand(t *testing.T) {
	cdn := apitest.DefaultCDN()
	cdn.SlowDelay, cdn.LargeSize = 20*time.Millisecond, 2<<20
	srv := testkit.StartAPI(t, apitest.Options{Seed: 3, CDN: cdn, LiveForms: true})
	testkit.SetEnv(t, srv)
	dir := filepath.Join(t.TempDir(), "h")
	code, _, stderr := runCLI(t, harvestArgs(dir, "--datasets", "ads,ad-details,commercial-content", "--countries", "FR",
		"--from", "2024-01-01", "--to", "2024-01-03")...)
	if code != 0 {
		t.Fatalf("harvest: exit %d: %s", code, stderr)
	}

	// A budget stop is resumable: exit 75, one line naming the budget.
	code, out, stderr := runCLI(t, mediaArgs(dir, "--budget", "1MB")...)
	if code != 75 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "budget of 977 KiB") || !strings.Contains(stderr, "run the same command again") {
		t.Fatalf("a budget stop: exit %d, stderr %q", code, stderr)
	}
	if !strings.Contains(out, "not tried yet") {
		t.Fatalf("a budget stop says nothing of what is left:\n%s", out)
	}
	code, out, stderr = runCLI(t, mediaArgs(dir)...)
	if code != 0 || stderr != "" || !strings.Contains(out, "0 failed, 0 not tried yet") || !strings.Contains(out, filepath.Join(dir, "media")) {
		t.Fatalf("resumed: exit %d, stderr %q\n%s", code, stderr, out)
	}
	if leaks := srv.CDNLeaks(); len(leaks) > 0 {
		t.Fatalf("credentials reached the CDN: %v", leaks)
	}
	code, out, _ = runCLI(t, "sql", "--out", dir, "--format", "csv", "SELECT count(*) FILTER (WHERE status = 'ok') > 0, count(*) FILTER (WHERE path IS NOT NULL AND status <> 'ok') FROM media")
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "true,0") {
		t.Fatalf("sql over media: exit %d\n%s", code, out)
	}
	// Nothing is left to do: the second run asks nothing.
	before := len(srv.CDNRequests())
	if code, out, _ = runCLI(t, mediaArgs(dir)...); code != 0 || !strings.Contains(out, "this run: 0 links settled") || len(srv.CDNRequests()) != before {
		t.Fatalf("a run with nothing to do: exit %d, %d requests\n%s", code, len(srv.CDNRequests())-before, out)
	}
}

func TestMediaBadInput(t *testing.T) {
	empty := t.TempDir()
	notAFolder := filepath.Join(empty, "file")
	os.WriteFile(notAFolder, []byte("x"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no --out", []string{"media"}, "--out is required"},
		{"a missing folder", []string{"media", "--out", filepath.Join(empty, "nope")}, "does not exist"},
		{"a file", []string{"media", "--out", notAFolder}, "not a folder"},
		{"a folder without harvest", []string{"media", "--out", empty}, "holds no harvest"},
		{"a bad budget", []string{"media", "--out", empty, "--budget", "lots"}, "--budget"},
		{"a zero budget", []string{"media", "--out", empty, "--budget", "0"}, "--budget"},
		{"a bad cap", []string{"media", "--out", empty, "--max-file-size", "-3"}, "--max-file-size"},
		{"no concurrency", []string{"media", "--out", empty, "--concurrency", "0"}, "--concurrency"},
		{"a negative rate", []string{"media", "--out", empty, "--rps", "-1"}, "--rps"},
		{"a bad progress", []string{"media", "--out", empty, "--progress", "bar"}, "--progress"},
		{"an argument", []string{"media", "--out", empty, "extra"}, "takes no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, stderr := runCLI(t, tc.args...)
			checkUsageError(t, code, stderr, tc.want)
			if out != "" {
				t.Errorf("stdout %q", out)
			}
		})
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 1 {
		t.Errorf("bad input wrote into the folder: %v", entries)
	}
}
