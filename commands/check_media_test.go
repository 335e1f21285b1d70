package commands_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"adharvest/folder"
	"adharvest/internal/testkit"
	"adharvest/media"
	"adharvest/sink"
	"adharvest/tiktok/apitest"
)

// storedFiles is the path (relative to dir) of every distinct stored file
// the media table names, in the table's order.
func storedFiles(t *testing.T, dir string) []string {
	t.Helper()
	rows, err := sink.ReadParquet[sink.MediaRow](media.TablePath(folder.New(dir), sink.Media))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range rows {
		if r.Status == "ok" && r.Path != nil && !seen[*r.Path] {
			seen[*r.Path] = true
			out = append(out, *r.Path)
		}
	}
	return out
}

// hashesToItsName requires the file at rel (under dir) to hold bytes whose
// SHA-256 is its name.
func hashesToItsName(t *testing.T, dir, rel string) {
	t.Helper()
	b, err := os.ReadFile(folder.New(dir).Abs(rel))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if name := filepath.Base(rel); !strings.HasPrefix(name, hex.EncodeToString(sum[:])) {
		t.Errorf("%s: its bytes hash to %x", rel, sum)
	}
}

var (
	mediaLine = regexp.MustCompile(`(?m)^media +(\d+) of (\d+) linked files archived`)
	mediaOwed = regexp.MustCompile(`(?m)^ +\d+ still owed \(\d+ failed, \d+ not tried yet\): run `)
)

// check verifies the media store too: a damaged creative and a lost one
// are problems (exit 1, one line each, named relative to the folder);
// --repair deletes the damaged copy and forgets both (exit 0), status then
// says they are owed, and adharvest media fetches them again from the CDN.
func TestCheckVerifiesTheMediaStore(t *testing.T) {
	cdn := apitest.DefaultCDN()
	cdn.SlowDelay, cdn.LargeSize = 20*time.Millisecond, 2<<20
	srv := testkit.StartAPI(t, apitest.Options{Seed: 5, CDN: cdn, LiveForms: true})
	testkit.SetEnv(t, srv)
	dir := filepath.Join(t.TempDir(), "h")
	if code, _, stderr := runCLI(t, harvestArgs(dir, "--datasets", "ads,ad-details,commercial-content,media", "--countries", "FR",
		"--from", "2024-01-01", "--to", "2024-01-03")...); code != 0 {
		t.Fatalf("harvest: exit %d: %s", code, stderr)
	}
	code, out, _ := runCLI(t, "status", "--out", dir)
	m := mediaLine.FindStringSubmatch(out)
	if code != 0 || m == nil || mediaOwed.MatchString(out) || regexp.MustCompile(`(?m)^media +0 `).MatchString(out) {
		t.Fatalf("status after a harvest with media: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "check", "--out", dir)
	if code != 0 || !strings.Contains(out, "archived creatives") {
		t.Fatalf("check of an intact folder: exit %d\n%s", code, out)
	}

	files := storedFiles(t, dir)
	if len(files) < 2 {
		t.Fatalf("only %d stored files", len(files))
	}
	damaged, lost := files[0], files[1]
	f := folder.New(dir)
	if err := os.WriteFile(f.Abs(damaged), []byte("not the creative"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(f.Abs(lost)); err != nil {
		t.Fatal(err)
	}

	code, out, stderr := runCLI(t, "check", "--out", dir)
	if code != 1 || !strings.Contains(stderr, "damage remains") || strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
		t.Fatalf("check of a damaged store: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{damaged + ": " + media.ProblemCorrupt, lost + ": " + media.ProblemMissing} {
		if !strings.Contains(out, want+"\n") {
			t.Errorf("check does not say %q:\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("%d lines, want one per problem:\n%s", n, out)
	}

	code, out, stderr = runCLI(t, "check", "--out", dir, "--repair")
	if code != 0 || !strings.Contains(out, "repaired: "+damaged+": damaged copy deleted") || !strings.Contains(out, "fetched again by the next media run") {
		t.Fatalf("check --repair: exit %d, stderr %q\n%s", code, stderr, out)
	}
	if _, err := os.Stat(f.Abs(damaged)); !os.IsNotExist(err) {
		t.Errorf("the damaged copy is still there: %v", err)
	}
	if code, out, _ = runCLI(t, "check", "--out", dir); code != 0 {
		t.Fatalf("check after the repair: exit %d\n%s", code, out)
	}
	for _, p := range storedFiles(t, dir) {
		if p == damaged || p == lost {
			t.Errorf("the media table still names %s as stored", p)
		}
	}
	code, out, _ = runCLI(t, "status", "--out", dir)
	if code != 0 || !mediaOwed.MatchString(out) || !strings.Contains(out, "run `adharvest media --out "+dir+"` to fetch them") {
		t.Fatalf("status after the repair does not say what is owed:\n%s", out)
	}

	code, out, stderr = runCLI(t, mediaArgs(dir, "--max-file-size", "512MiB")...)
	if code != 0 || !strings.Contains(out, "0 failed, 0 not tried yet") || strings.Contains(out, "this run: 0 links settled") {
		t.Fatalf("media after the repair: exit %d, stderr %q\n%s", code, stderr, out)
	}
	for _, p := range []string{damaged, lost} {
		hashesToItsName(t, dir, p)
	}
	code, out, _ = runCLI(t, "status", "--out", dir)
	if again := mediaLine.FindStringSubmatch(out); code != 0 || again == nil || again[1] != m[1] || again[2] != m[2] || mediaOwed.MatchString(out) {
		t.Errorf("status after media fetched them again (before: %v):\n%s", m, out)
	}
	if code, out, _ = runCLI(t, "check", "--out", dir); code != 0 {
		t.Errorf("check at the end: exit %d\n%s", code, out)
	}
	if leaks := srv.CDNLeaks(); len(leaks) > 0 {
		t.Errorf("credentials reached the CDN: %v", leaks)
	}
}

// A folder harvested without the media dataset: status has no media row
// in its counts and one line saying the creatives are not archived, with
// the command that archives them.
func TestStatusOfAFolderWithoutMedia(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Seed: 5, CDN: apitest.DefaultCDN()})
	testkit.SetEnv(t, srv)
	dir := filepath.Join(t.TempDir(), "h")
	if code, _, stderr := runCLI(t, harvestArgs(dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-02")...); code != 0 {
		t.Fatalf("harvest: exit %d: %s", code, stderr)
	}
	code, out, _ := runCLI(t, "status", "--out", dir)
	lines := regexp.MustCompile(`(?m)^media .*$`).FindAllString(out, -1)
	if code != 0 || len(lines) != 1 || !strings.HasPrefix(lines[0], "media     not archived: the tables link to ") ||
		!strings.HasSuffix(lines[0], "run `adharvest media --out "+dir+"` to download them") {
		t.Fatalf("status of a folder harvested without media: exit %d\n%s", code, out)
	}
	if len(srv.CDNRequests()) != 0 {
		t.Errorf("status or the harvest asked the CDN %d times", len(srv.CDNRequests()))
	}
}
