package commands_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/commands"
	"adharvest/folder"
	"adharvest/manifest"
	"adharvest/media"
	"adharvest/sink"
	"adharvest/tiktok/apitest"
)

// The demo harvests offline, creatives included: its media table holds
// every status, each stored file hashes to its name and is the fake CDN's
// object, and the CDN never saw a credential.
func TestDemoWorksOffline(t *testing.T) {
	t.Setenv("TIKTOK_CLIENT_KEY", "")
	t.Setenv("TIKTOK_CLIENT_SECRET", "")
	dir := filepath.Join(t.TempDir(), "demo")
	var out, stderr strings.Builder
	var srv *apitest.Server
	var leaks []string
	demo := &commands.DemoCommand{Out: dir, Progress: "none", Stdout: &out, Stderr: &stderr,
		Served: func(s *apitest.Server) { srv, leaks = s, s.CDNLeaks() }}
	if err := demo.Run(context.Background()); err != nil || !strings.Contains(out.String(), "adharvest sql --out "+dir) {
		t.Fatalf("demo: %v\n%s\n%s", err, out.String(), stderr.String())
	}
	man, err := manifest.Read(folder.New(dir).Manifest())
	if err != nil || !man.Complete || man.Datasets["ads"].Rows == 0 {
		t.Fatalf("demo manifest %+v %v", man, err)
	}
	if srv == nil || len(srv.CDNRequests()) == 0 {
		t.Fatal("the demo asked the fake CDN nothing")
	}
	if len(leaks) > 0 {
		t.Errorf("credentials reached the fake CDN: %v", leaks)
	}
	for _, want := range []string{"Creatives from the fake CDN: ", "linked files archived", "sha256sum " + filepath.Join(dir, "media")} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the demo does not say %q:\n%s", want, out.String())
		}
	}

	rows, err := sink.ReadParquet[sink.MediaRow](media.TablePath(folder.New(dir), sink.Media))
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[string]int{}
	for _, r := range rows {
		statuses[r.Status]++
		if r.Status != "ok" {
			continue
		}
		exp := srv.CDNExpect(r.URL)
		if r.SHA256 == nil || r.Path == nil || *r.SHA256 != exp.SHA256 {
			t.Fatalf("%s: stored %v, the CDN serves %s", r.URL, r.SHA256, exp.SHA256)
		}
		hashesToItsName(t, dir, *r.Path)
	}
	for _, st := range []string{"ok", "expired", "removed", "too_large"} {
		if statuses[st] == 0 {
			t.Errorf("no %s creative in the demo: %v", st, statuses)
		}
	}
	if statuses["failed"] > 0 {
		t.Errorf("the demo failed to fetch %d creatives from loopback", statuses["failed"])
	}
}
