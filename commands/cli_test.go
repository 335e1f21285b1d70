package commands_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/commands"
	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// runCLI runs the command line in-process and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runCLIWith(t, os.Stdin, args...)
}

// runCLIWithStdin is runCLI with standard input read from stdin.
func runCLIWithStdin(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return runCLIWith(t, strings.NewReader(stdin), args...)
}

func runCLIWith(t *testing.T, stdin io.Reader, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := commands.Main(context.Background(), commands.Env{Stdin: stdin, Stdout: &out, Stderr: &errb}, append([]string{"adharvest"}, args...))
	return code, out.String(), errb.String()
}

// harvestArgs is a harvest into dir with fast retries, no rate limit and no
// progress output, then extra.
func harvestArgs(dir string, extra ...string) []string {
	return append([]string{"harvest", "--out", dir, "--retry-base", "1ms", "--rps", "0", "--progress", "none"}, extra...)
}

func TestBadInputIsOneLineExit2AndLeavesNothing(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{})
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
			testkit.SetEnv(t, srv)
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
	testkit.SetEnv(t, nil)
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

func TestDatasetUsageErrors(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{})
	base := func(extra ...string) []string {
		return append([]string{"harvest", "--from", "2024-01-01", "--to", "2024-01-07", "--progress", "none"}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{name: "advertisers without --term", args: base("--datasets", "ads,advertisers", "--countries", "FR"), want: []string{"advertisers", "--term"}},
		{name: "commercial-content with only GB", args: base("--datasets", "commercial-content", "--countries", "GB"), want: []string{"commercial-content", "GB"}},
		{name: "ad-details without ads", args: base("--datasets", "ad-details", "--countries", "FR"), want: []string{"ad-details", "ads"}},
		{name: "negative detail budget", args: base("--datasets", "ads,ad-details", "--countries", "FR", "--detail-budget", "-1"), want: []string{"--detail-budget"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testkit.SetEnv(t, srv)
			before := srv.Stats().DataRequests
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, append(tc.args, "--out", out)...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want exactly one line", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("bad input left %s behind", out)
			}
			if n := srv.Stats().DataRequests - before; n != 0 {
				t.Errorf("%d data requests spent on bad input", n)
			}
		})
	}
}

func TestOutNotWritable(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{})
	testkit.SetEnv(t, srv)
	file := filepath.Join(t.TempDir(), "a-file")
	os.WriteFile(file, nil, 0o644)
	cases := map[string]string{"under a file": filepath.Join(file, "out")}
	if os.Geteuid() != 0 { // root writes anywhere, so only an ordinary user can test permissions
		ro := filepath.Join(t.TempDir(), "ro")
		os.Mkdir(ro, 0o555)
		cases["read-only folder"] = filepath.Join(ro, "out")
	}
	for name, out := range cases {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "harvest", "--out", out, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07", "--progress", "none")
			if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--out") {
				t.Fatalf("exit %d %q", code, stderr)
			}
		})
	}
	if srv.Stats().DataRequests != 0 {
		t.Fatal("requests were spent before the folder was checked")
	}
}
