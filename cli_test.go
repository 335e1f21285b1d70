package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/commands"
	"adharvest/tiktok"
	"adharvest/tiktok/apitest"
)

// fastRetry keeps fault-injection tests quick; production waits seconds.
var fastRetry = tiktok.RetryPolicy{Initial: 2 * time.Millisecond, Max: 20 * time.Millisecond, MaxElapsed: 20 * time.Second, MaxAttempts: 15, MaxRetryAfter: 1500 * time.Millisecond}

// cli runs the command line in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := commands.Main(context.Background(), commands.Env{Stdin: os.Stdin, Stdout: &out, Stderr: &errb}, append([]string{"adharvest"}, args...))
	return code, out.String(), errb.String()
}

func setCreds(t *testing.T, srv *apitest.Server) {
	t.Setenv("TIKTOK_CLIENT_KEY", apitest.DefaultClientKey)
	t.Setenv("TIKTOK_CLIENT_SECRET", apitest.DefaultClientSecret)
	if srv != nil {
		t.Setenv("ADHARVEST_API_URL", srv.URL)
	}
}

func TestBadInputIsOneLineExit2AndLeavesNothing(t *testing.T) {
	srv := apitest.Start(apitest.Options{})
	defer srv.Close()
	base := func(extra ...string) []string {
		return append([]string{"harvest", "--from", "2024-01-01", "--to", "2024-01-31", "--countries", "FR"}, extra...)
	}
	for _, tc := range []struct {
		name    string
		args    []string
		env     map[string]string
		code    int
		wantMsg string
	}{
		{name: "date before 2022-10-01", args: []string{"harvest", "--from", "2022-09-30", "--to", "2022-10-05"}, code: 2, wantMsg: "2022-10-01"},
		{name: "reversed range", args: []string{"harvest", "--from", "2024-02-01", "--to", "2024-01-01"}, code: 2, wantMsg: "swap"},
		{name: "malformed date", args: []string{"harvest", "--from", "2024/01/01", "--to", "2024-01-31"}, code: 2, wantMsg: "--from"},
		{name: "impossible date", args: []string{"harvest", "--from", "2024-02-30", "--to", "2024-03-31"}, code: 2, wantMsg: "--from"},
		{name: "to not before today", args: []string{"harvest", "--from", "2024-01-01", "--to", time.Now().UTC().Format("2006-01-02")}, code: 2, wantMsg: "before today"},
		{name: "unknown country", args: base("--countries", "FR,XX"), code: 2, wantMsg: `"XX"`},
		{name: "unknown dataset", args: base("--datasets", "ads,tweets"), code: 2, wantMsg: `"tweets"`},
		{name: "term over 50 characters", args: base("--term", strings.Repeat("a", 51)), code: 2, wantMsg: "51 characters"},
		{name: "bad size range", args: base("--reach-min", "1.1M"), code: 2, wantMsg: "--reach-min"},
		{name: "max size zero", args: base("--reach-max", "0K"), code: 2, wantMsg: "greater than 0"},
		{name: "max-count over 50", args: base("--max-count", "51"), code: 2, wantMsg: "--max-count"},
		{name: "bad search type", args: base("--search-type", "regex"), code: 2, wantMsg: "fuzzy_phrase"},
		{name: "bad window", args: base("--window", "soon"), code: 2, wantMsg: "--window"},
		{name: "bad advertiser id", args: base("--advertiser-id", "acme"), code: 2, wantMsg: "--advertiser-id"},
		{name: "unknown flag", args: base("--bogus"), code: 2, wantMsg: "bogus"},
		{name: "missing --out", args: base(), code: 2, wantMsg: "--out is required"},
		{name: "missing credentials", args: base(), env: map[string]string{"TIKTOK_CLIENT_KEY": "", "TIKTOK_CLIENT_SECRET": ""}, code: 2, wantMsg: "TIKTOK_CLIENT_SECRET"},
		{name: "plain http to a remote host", args: base("--api-url", "http://open.tiktokapis.com"), code: 2, wantMsg: "plain http"},
		{name: "wrong secret", args: base(), env: map[string]string{"TIKTOK_CLIENT_SECRET": "wrong-secret"}, code: 1, wantMsg: "TIKTOK_CLIENT_SECRET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setCreds(t, srv)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			out := filepath.Join(t.TempDir(), "out")
			args := append(tc.args, "--out", out)
			if tc.name == "unknown flag" || tc.name == "missing --out" {
				args = tc.args // the parse fails before --out matters, or --out is what is missing
			}
			code, stdout, stderr := runCLI(t, args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, stderr)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, tc.wantMsg) {
				t.Fatalf("stderr %q: want one line naming %q", stderr, tc.wantMsg)
			}
			if stdout != "" {
				t.Fatalf("stdout %q", stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Fatalf("bad input left %s behind", out)
			}
			if strings.Contains(stderr, apitest.DefaultClientSecret) {
				t.Fatal("secret in stderr")
			}
			if got := srv.Stats().DataRequests; got != 0 {
				t.Fatalf("%d data requests spent on bad input", got)
			}
		})
	}
}

// TestEveryCommandsUsageErrorsAreOneLine: no command prints its help, or more
// than one line, for a missing or wrong flag.
func TestEveryCommandsUsageErrorsAreOneLine(t *testing.T) {
	for _, args := range [][]string{
		{"harvest"}, {"status"}, {"sql"}, {"export"}, {"report"},
		{"status", "--bogus"}, {"sql", "--format", "xml", "--out", "."}, {"nonsense"},
		{"report", "--out", "/does/not/exist"}, {"export", "--out", "/does/not/exist", "--duckdb", "x.duckdb"},
	} {
		code, stdout, stderr := runCLI(t, args...)
		if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stdout %q, stderr %q: want exit 2 and one stderr line", args, code, stdout, stderr)
		}
	}
}

func TestJobFileWithUnknownKeyIsAUsageError(t *testing.T) {
	setCreds(t, nil)
	job := filepath.Join(t.TempDir(), "job.yaml")
	os.WriteFile(job, []byte("from: 2024-01-01\nto: 2024-01-31\ncountry: FR\n"), 0o644)
	out := filepath.Join(t.TempDir(), "out")
	code, _, stderr := runCLI(t, "harvest", "--out", out, "--job", job)
	if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "country") {
		t.Fatalf("exit %d %q", code, stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatal("a bad job file left a folder behind")
	}
	code, _, stderr = runCLI(t, "harvest", "--out", out, "--job", job, "--countries", "DE")
	if code != 2 || !strings.Contains(stderr, "cannot be combined") {
		t.Fatalf("--job with --countries: exit %d %q", code, stderr)
	}
}
