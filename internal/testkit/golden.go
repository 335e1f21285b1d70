package testkit

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// Updating reports whether the test binary runs with -update: golden files
// are then rewritten instead of compared. A package that imports testkit
// uses it instead of defining its own -update flag.
var Updating = boolFlag("update", "rewrite the golden files instead of comparing with them")

// boolFlag defines a bool flag, or shares the one already defined under the
// same name.
func boolFlag(name, usage string) func() bool {
	if f := flag.Lookup(name); f != nil {
		return func() bool { return f.Value.String() == "true" }
	}
	p := flag.Bool(name, false, usage)
	return func() bool { return *p }
}

// Golden compares got with the golden file at path, or rewrites the file
// under -update.
func Golden(t testing.TB, path, got string) {
	t.Helper()
	if Updating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (rerun with -update to accept):\n--- want\n%s\n--- got\n%s", path, want, got)
	}
}
