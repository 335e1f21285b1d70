package commands_test

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"adharvest/commands"
	"adharvest/folder"
	"adharvest/media"
	"adharvest/sink"
)

// fake-api --cdn serves the creatives too: it names the CDN when it starts,
// and a harvest with the media dataset, with exactly the environment it
// says to export, archives them from it.
func TestFakeAPIServesACDN(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	served := make(chan int, 1)
	go func() {
		served <- commands.Main(ctx, commands.Env{Stdout: out, Stderr: out}, []string{"adharvest", "fake-api", "--listen", "127.0.0.1:0", "--cdn"})
	}()
	defer func() {
		cancel()
		if code := <-served; code != 0 {
			t.Errorf("fake-api exit %d: %s", code, out)
		}
	}()
	exportLine := regexp.MustCompile(`(?m)^\s*export (.+)$`)
	cdnLine := regexp.MustCompile(`(?m)^fake CDN on (http://127\.0\.0\.1:\d+):`)
	var vars []string
	var cdn string
	for deadline := time.Now().Add(10 * time.Second); vars == nil || cdn == ""; time.Sleep(20 * time.Millisecond) {
		if m := exportLine.FindStringSubmatch(out.String()); m != nil {
			vars = strings.Fields(m[1])
		}
		if m := cdnLine.FindStringSubmatch(out.String()); m != nil {
			cdn = m[1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("fake-api --cdn never named its CDN:\n%s", out)
		}
	}
	t.Setenv("TIKTOK_CLIENT_KEY", "")
	t.Setenv("TIKTOK_CLIENT_SECRET", "")
	for _, kv := range vars {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := runCLI(t, harvestArgs(dir, "--datasets", "ads,media", "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-02")...); code != 0 {
		t.Fatalf("harvest with media from fake-api --cdn: exit %d: %s", code, stderr)
	}
	rows, err := sink.ReadParquet[sink.MediaRow](media.TablePath(folder.New(dir), sink.Media))
	if err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, r := range rows {
		if !strings.HasPrefix(r.URL, cdn+"/") {
			t.Errorf("%s is not on the fake CDN %s", r.URL, cdn)
		}
		if r.Status == "ok" {
			ok++
			hashesToItsName(t, dir, *r.Path)
		}
	}
	if ok == 0 {
		t.Fatalf("nothing archived from fake-api --cdn (%d media rows)", len(rows))
	}

	// Without --cdn, the start-up message names no CDN.
	plain := &syncBuffer{}
	pctx, pcancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- commands.Main(pctx, commands.Env{Stdout: plain, Stderr: plain}, []string{"adharvest", "fake-api", "--listen", "127.0.0.1:0"})
	}()
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(plain.String(), "export "); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("fake-api never started:\n%s", plain)
		}
	}
	pcancel()
	if code := <-done; code != 0 || strings.Contains(plain.String(), "CDN") {
		t.Errorf("fake-api without --cdn: exit %d\n%s", code, plain)
	}
}
