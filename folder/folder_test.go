package folder

import (
	"os"
	"path/filepath"
	"testing"

	"adharvest/sink"
)

func TestTempFilesNeverMatchGlob(t *testing.T) {
	f := New(t.TempDir())
	dir := f.PartitionDir(sink.Ads, "FR")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, sink.TempPrefix+"x.parquet-123"), nil, 0o644)
	if err := sink.WriteParquet(filepath.Join(dir, "x.parquet"), []sink.AdRow{{AdFields: sink.AdFields{AdID: 1}}}); err != nil {
		t.Fatal(err)
	}
	m, _ := filepath.Glob(f.Glob(sink.Ads))
	if len(m) != 1 || filepath.Base(m[0]) != "x.parquet" {
		t.Fatalf("glob matched %v", m)
	}
}

func TestPartNames(t *testing.T) {
	f := New("out")
	for _, tc := range []struct {
		path      string
		stem      string
		n         int
		partition string
	}{
		{f.Part(sink.Ads, "FR", "20240101-20240107_all", 3), "20240101-20240107_all", 3, "FR"},
		{f.RawPart(sink.Ads, "NO", "20240101-20240107_q0a1b2c3d4e", 12), "20240101-20240107_q0a1b2c3d4e", 12, "NO"},
		{f.Part(sink.AdDetails, "", "details", 100000), "details", 100000, ""},
	} {
		stem, n, ok := ParsePartName(filepath.Base(tc.path))
		if !ok || stem != tc.stem || n != tc.n {
			t.Errorf("%s: stem %q n %d ok %v", tc.path, stem, n, ok)
		}
		tab := sink.Ads
		if tc.partition == "" {
			tab = sink.AdDetails
		}
		if got := PartitionOf(tab, tc.path); got != tc.partition {
			t.Errorf("%s: partition %q, want %q", tc.path, got, tc.partition)
		}
	}
	if _, _, ok := ParsePartName("notes.txt"); ok {
		t.Error("a file that is not a part parsed as one")
	}
}

// TestGlobTakesTheRootLiterally: a root whose name holds pattern characters
// (or a backslash, filepath.Match's escape) matches exactly its own parts,
// never a sibling's that the name, read as a pattern, would match.
func TestGlobTakesTheRootLiterally(t *testing.T) {
	for _, tc := range []struct{ root, decoy string }{
		{"run[1]", "run1"},
		{"a*b", "aXb"},
		{"q?", "qX"},
		{`back\slash`, "backslash"},
		{`x[\]y`, `x\y`},
		{"country_code=ZZ", ""},
	} {
		base := t.TempDir()
		root := filepath.Join(base, tc.root)
		for _, tb := range []sink.Table{sink.Ads, sink.AdDetails} {
			want := New(root).Part(tb, "FR", "s", 0)
			paths := []string{want}
			if tc.decoy != "" {
				paths = append(paths, New(filepath.Join(base, tc.decoy)).Part(tb, "FR", "s", 0))
			}
			for _, p := range paths {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			m, err := filepath.Glob(Glob(root, tb))
			if err != nil || len(m) != 1 || m[0] != want {
				t.Errorf("%s %s: Glob matched %q (%v), want only %q", tc.root, tb.Name, m, err, want)
			}
		}
	}
}
