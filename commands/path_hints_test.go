package commands_test

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/commands"
	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

func TestInvocation(t *testing.T) {
	for _, tc := range []struct{ arg0, exe, want string }{
		{"/tmp/go-build2871/b001/exe/adharvest", "/tmp/go-build2871/b001/exe/adharvest", "go run ."},
		{"/home/ann/.cache/go-build/29/29f2ac7a60625157ace9fa25141d3826db3e58846ad0affe078467855cced670-d/adharvest",
			"/home/ann/.cache/go-build/29/29f2ac7a60625157ace9fa25141d3826db3e58846ad0affe078467855cced670-d/adharvest", "go run ."},
		{"adharvest", "/home/ann/go/bin/adharvest", "adharvest"},
		{"./adharvest", "/home/ann/src/adharvest/adharvest", "./adharvest"},
		{"/opt/tools/adharvest", "/opt/tools/adharvest", "/opt/tools/adharvest"},
		{"./my tools/adharvest", "/home/ann/my tools/adharvest", "'./my tools/adharvest'"},
		{"", "", "adharvest"},
	} {
		if got := commands.Invocation(tc.arg0, tc.exe); got != tc.want {
			t.Errorf("Invocation(%q, %q) = %q, want %q", tc.arg0, tc.exe, got, tc.want)
		}
	}
}

// runAs runs the command line as a user who runs adharvest as prog.
func runAs(t *testing.T, prog string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := commands.Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Program: prog}
	code := commands.Main(context.Background(), env, append([]string{"adharvest"}, args...))
	return code, out.String(), errb.String()
}

// TestHintsAfterGoRun: after `go run . demo` there is no adharvest command,
// so every command the demo suggests starts with `go run .`, and it says
// how to get the command.
func TestHintsAfterGoRun(t *testing.T) {
	t.Setenv("TIKTOK_CLIENT_KEY", "")
	t.Setenv("TIKTOK_CLIENT_SECRET", "")
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, stderr := runAs(t, "go run .", "demo", "--out", dir, "--progress", "none")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"go run . sql --out " + dir + " \"SELECT", "go run . status --out " + dir, "go install .", "go build -o adharvest ."} {
		if !strings.Contains(out, want) {
			t.Errorf("demo's hints do not say %q:\n%s", want, out)
		}
	}
	for _, l := range strings.Split(out+stderr, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "adharvest sql") || strings.Contains(l, "query it: adharvest") {
			t.Errorf("a hint the user cannot run: %q", l)
		}
	}

	// A binary: the hints name it as the user typed it.
	code, out, _ = runAs(t, "./adharvest", "demo", "--out", dir, "--progress", "none")
	if code != 0 || !strings.Contains(out, "./adharvest sql --out "+dir) || strings.Contains(out, "go install") {
		t.Errorf("exit %d; hints for ./adharvest:\n%s", code, out)
	}

	// Errors and help speak the same way.
	testkit.SetEnv(t, testkit.StartAPI(t, apitest.Options{}))
	t.Setenv("TIKTOK_CLIENT_SECRET", "")
	code, _, stderr = runAs(t, "go run .", "harvest", "--out", filepath.Join(t.TempDir(), "x"), "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07")
	if code != 2 || !strings.Contains(stderr, "`go run . demo`") {
		t.Errorf("exit %d: the credentials error does not suggest `go run . demo`: %q", code, stderr)
	}
	_, out, _ = runAs(t, "go run .", "harvest", "--help")
	if !strings.Contains(out, "go run . harvest --out eea-2024-01") || strings.Contains(out, "   adharvest harvest --out") {
		t.Errorf("harvest --help examples are not as the user runs adharvest:\n%s", out)
	}
}
