package job

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var today = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func normalized(t *testing.T, j Job) Job {
	t.Helper()
	if err := j.Normalize(today, nil); err != nil {
		t.Fatal(err)
	}
	return j
}

func TestJobFileQueriesInheritDefaults(t *testing.T) {
	j, err := ParseFile(".yaml", []byte(`
from: 2024-01-01
to: 2024-01-31
countries: FR
queries:
  - terms: [coffee]
  - countries: [DE]
    to: 2024-01-07
`))
	if err != nil {
		t.Fatal(err)
	}
	j = normalized(t, j)
	if len(j.Queries) != 2 || j.Queries[0].Countries[0] != "FR" || j.Queries[1].To != "2024-01-07" || j.Queries[1].From != "2024-01-01" {
		t.Fatalf("queries %+v", j.Queries)
	}
}

func TestJobFileRejects(t *testing.T) {
	for _, tc := range []struct{ name, ext, text, want string }{
		{"unknown yaml key", ".yaml", "from: 2024-01-01\nto: 2024-01-31\ncountry: FR\n", "country"},
		{"unknown key inside a query", ".yaml", "from: 2024-01-01\nto: 2024-01-31\nqueries:\n  - term: x\n", "term"},
		{"unknown toml key", ".toml", "from = \"2024-01-01\"\nto = \"2024-01-31\"\nfilters = 1\n", "filters"},
		{"bad advertiser id", ".yaml", "from: 2024-01-01\nto: 2024-01-31\nadvertiser_ids: [12.5]\n", "advertiser id"},
		{"bad window", ".yaml", "window: fortnight\n", "window"},
		{"wrong extension", ".json", "{}", ".json"},
		{"malformed yaml", ".yaml", "datasets: [ads\n", "job file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile(tc.ext, []byte(tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.want) || !isJobError(err) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want a one-line usage error naming %q", err, tc.want)
			}
		})
	}
}

// isJobError reports whether err is one of the typed errors the command line
// renders as a one-line usage error.
func isJobError(err error) bool {
	var fe *FieldError
	var fi *FileError
	return errors.As(err, &fe) || errors.As(err, &fi)
}

func TestExampleJobFilesParse(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*"))
	if len(files) == 0 {
		t.Fatal("no example job files")
	}
	for _, f := range files {
		j, err := LoadFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := j.Normalize(today, nil); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
}

func TestNormalizeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		job  Job
		want string
	}{
		{"advertisers without term", Job{Datasets: []string{"advertisers"}, Queries: []Query{{From: "2024-01-01", To: "2024-01-02"}}}, "terms"},
		{"content with only GB", Job{Datasets: []string{"commercial-content"}, Queries: []Query{{Countries: []string{"GB"}, From: "2024-01-01", To: "2024-01-02"}}}, "no country"},
		{"details without ads", Job{Datasets: []string{"ad-details"}, Queries: []Query{{From: "2024-01-01", To: "2024-01-02"}}}, "list ads too"},
		{"second query bad", Job{Queries: []Query{{From: "2024-01-01", To: "2024-01-02"}, {From: "2021-01-01", To: "2024-01-02"}}}, "query 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.job.Normalize(today, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func FuzzParseFile(f *testing.F) {
	for _, p := range []string{"../examples/elections.yaml", "../examples/q1.toml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Ext(p), b)
	}
	f.Add(".yaml", []byte("queries: [{countries: [FR], from: 2024-01-01, to: 2024-01-02}]"))
	f.Fuzz(func(t *testing.T, ext string, b []byte) {
		j, err := ParseFile(ext, b)
		if err != nil {
			if !isJobError(err) {
				t.Fatalf("an error that is neither *FileError nor *FieldError: %T: %v", err, err)
			}
			return
		}
		_ = j.Normalize(today, nil)
	})
}
