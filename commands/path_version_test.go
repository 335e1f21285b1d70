package commands_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/commands"
	"adharvest/folder"
	"adharvest/internal/buildinfo"
	"adharvest/internal/testkit"
	"adharvest/manifest"
	"adharvest/tiktok/apitest"

	"github.com/parquet-go/parquet-go"
)

// TestVersionIsStamped: the manifest and every Parquet file name the build
// that wrote them, from the build information (scripts/version-check.sh
// checks a binary built from git names its commit).
func TestVersionIsStamped(t *testing.T) {
	if commands.Version == "" || commands.Version == "dev" {
		t.Fatalf("commands.Version is %q: not read from the build", commands.Version)
	}
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	testkit.SetEnv(t, srv)
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, stderr := runCLI(t, harvestArgs(dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07")...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	man, err := manifest.Read(folder.New(dir).Manifest())
	if err != nil || man.Version != commands.Version {
		t.Fatalf("manifest version %q (%v), want %q", man.Version, err, commands.Version)
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "ads", "*", "*.parquet"))
	if len(parts) == 0 {
		t.Fatal("no ads part")
	}
	want := buildinfo.Read().CreatedBy("adharvest")
	for _, p := range parts {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, _ := f.Stat()
		pf, err := parquet.OpenFile(f, fi.Size())
		if err != nil {
			t.Fatal(err)
		}
		got := pf.Metadata().CreatedBy
		f.Close()
		if got != want || strings.Contains(got, "(build )") || !strings.HasPrefix(got, "adharvest version "+buildinfo.Read().Version) {
			t.Errorf("%s: created_by %q, want %q", filepath.Base(p), got, want)
		}
	}
	code, out, _ := runCLI(t, "--version")
	if code != 0 || !strings.Contains(out, commands.Version) {
		t.Errorf("--version: exit %d %q, want it to name %q", code, out, commands.Version)
	}
}
