package commands_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/commands"
	"adharvest/folder"
	"adharvest/internal/testkit"
	"adharvest/manifest"
	"adharvest/tiktok/apitest"
)

// TestRestartAsksFirst: --restart never discards a folder's data unasked.
// Without a terminal to ask on it refuses unless --yes is given; on a
// terminal it asks, and a no discards nothing.
func TestRestartAsksFirst(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	testkit.SetEnv(t, srv)
	dir := filepath.Join(t.TempDir(), "out")
	job := []string{"--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07"}
	if code, _, stderr := runCLI(t, harvestArgs(dir, job...)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	before := testkit.Rows(t, dir, "ads")
	runs := func() int {
		m, err := manifest.Read(folder.New(dir).Manifest())
		if err != nil {
			t.Fatal(err)
		}
		return len(m.Runs)
	}
	intact := func(what string) {
		t.Helper()
		if got := testkit.Rows(t, dir, "ads"); strings.Join(got, "\n") != strings.Join(before, "\n") || runs() != 1 {
			t.Fatalf("%s: the folder changed (%d ads rows, %d runs; had %d rows, 1 run)", what, len(got), runs(), len(before))
		}
	}

	// No terminal (standard input is a pipe or a file): refused, nothing sent.
	sent := srv.Stats().DataRequests
	code, stdout, stderr := runCLIWithStdin(t, "y\n", harvestArgs(dir, "--restart")...)
	if code != 2 || stdout != "" || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, "--yes") || !strings.Contains(stderr, "nothing was discarded") {
		t.Fatalf("--restart without a terminal: exit %d, stderr %q: want exit 2 naming --yes", code, stderr)
	}
	if srv.Stats().DataRequests != sent {
		t.Fatal("requests were spent on a refused --restart")
	}
	intact("refused --restart")

	// A terminal, and the user says no (or just presses Enter).
	var asked string
	h := &commands.HarvestCommand{
		Out: dir, Restart: true, APIURL: srv.URL, ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret,
		Concurrency: 4, FlushPages: 20, Retry: testkit.Retry, Progress: "none",
		Ask: func(q string) (bool, error) { asked = q; return false, nil },
	}
	err := h.Run(context.Background())
	var ue *commands.UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "nothing was discarded") {
		t.Fatalf("declined --restart: %v, want a usage error saying nothing was discarded", err)
	}
	for _, want := range []string{dir, "rows", "1 run", "file"} {
		if !strings.Contains(asked, want) {
			t.Errorf("the question %q does not say %q", asked, want)
		}
	}
	intact("declined --restart")

	// Yes: the stored job starts afresh.
	h.Ask = func(string) (bool, error) { return true, nil }
	if err := h.Run(context.Background()); err != nil {
		t.Fatalf("confirmed --restart: %v", err)
	}
	if runs() != 1 || srv.Stats().DataRequests == sent {
		t.Fatalf("confirmed --restart did not harvest afresh (%d runs)", runs())
	}

	// --yes, for scripts.
	sent = srv.Stats().DataRequests
	if code, _, stderr := runCLIWithStdin(t, "", harvestArgs(dir, "--restart", "--yes")...); code != 0 || srv.Stats().DataRequests == sent {
		t.Fatalf("--restart --yes: exit %d %s", code, stderr)
	}

	// A folder that holds nothing needs no confirmation.
	fresh := filepath.Join(t.TempDir(), "fresh")
	if code, _, stderr := runCLIWithStdin(t, "", harvestArgs(fresh, append(job, "--restart")...)...); code != 0 {
		t.Fatalf("--restart into an empty folder: exit %d %s", code, stderr)
	}
	if _, err := os.Stat(folder.New(fresh).Manifest()); err != nil {
		t.Fatal(err)
	}
}
