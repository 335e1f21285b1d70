package commands_test

import (
	"path/filepath"
	"strings"
	"testing"

	"adharvest/folder"
	"adharvest/manifest"
)

func TestDemoWorksOffline(t *testing.T) {
	t.Setenv("TIKTOK_CLIENT_KEY", "")
	t.Setenv("TIKTOK_CLIENT_SECRET", "")
	dir := filepath.Join(t.TempDir(), "demo")
	code, out, stderr := runCLI(t, "demo", "--out", dir, "--progress", "none")
	if code != 0 || !strings.Contains(out, "adharvest sql --out "+dir) {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	man, err := manifest.Read(folder.New(dir).Manifest())
	if err != nil || !man.Complete || man.Datasets["ads"].Rows == 0 {
		t.Fatalf("demo manifest %+v %v", man, err)
	}
}
