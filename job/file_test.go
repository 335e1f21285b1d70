package job

import (
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestJobFileNativeValues: TOML's own dates and integers, and YAML's
// numbers, are taken as a researcher writes them, and ids stay exact.
func TestJobFileNativeValues(t *testing.T) {
	const big = 7057157514558702338 // beyond 2^53: a float would change it
	for _, tc := range []struct{ name, ext, text string }{
		{"toml dates and integer ids", ".toml", `
countries = "FR"
from = 2024-05-01
to = 2024-05-31
advertiser_ids = [7057157514558702338, 1755645247067185]
`},
		{"toml quoted ids, YYYYMMDD integer dates", ".toml", `
countries = ["FR"]
from = 20240501
to = "2024-05-31"
advertiser_ids = ["7057157514558702338", "1755645247067185"]
`},
		{"toml date in a query, window as a number", ".toml", `
window = 7
countries = "FR"
[[queries]]
from = 2024-05-01
to = 2024-05-31
advertiser_ids = [7057157514558702338, 1755645247067185]
`},
		{"yaml numbers", ".yaml", `
countries: FR
from: 2024-05-01
to: 2024-05-31
advertiser_ids: [7057157514558702338, 1755645247067185]
`},
		{"yaml ids as a block list", ".yaml", `
countries: FR
from: 2024-05-01
to: 2024-05-31
advertiser_ids:
  - 7057157514558702338
  - "1755645247067185"
`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j, err := ParseFile(tc.ext, []byte(tc.text))
			if err != nil {
				t.Fatalf("refused: %v", err)
			}
			j = normalized(t, j)
			q := j.Queries[0]
			if q.From != "2024-05-01" || q.To != "2024-05-31" {
				t.Errorf("dates %s to %s, want 2024-05-01 to 2024-05-31", q.From, q.To)
			}
			if len(q.AdvertiserIDs) != 2 || q.AdvertiserIDs[0] != 1755645247067185 || q.AdvertiserIDs[1] != big {
				t.Errorf("ids %v, want [1755645247067185 %d] exactly", q.AdvertiserIDs, int64(big))
			}
		})
	}
	j, err := ParseFile(".toml", []byte("window = 7\ncountries = \"FR\"\nfrom = 2024-05-01\nto = 2024-05-31\n"))
	if err != nil || j.WindowDays != 7 {
		t.Fatalf("window = 7: %+v %v", j, err)
	}
}

// goType matches what Go's decoders say about types: "destination has type
// string", "into []job.fileQuery", "time.Time", "int64".
var goType = regexp.MustCompile(`\bjob\.\w+|time\.Time|int64|interface \{\}|destination has type|unmarshal|!!\w+`)

// TestJobFileErrorsSpeakTheFilesLanguage: a value of the wrong kind is
// named by its line and key, in words, never by the Go type it missed.
func TestJobFileErrorsSpeakTheFilesLanguage(t *testing.T) {
	for _, tc := range []struct{ name, ext, text string }{
		{"yaml max_count as text", ".yaml", "from: 2024-05-01\nto: 2024-05-31\nmax_count: fifty\n"},
		{"yaml queries as text", ".yaml", "from: 2024-05-01\nqueries: FR\n"},
		{"yaml dates as a list", ".yaml", "from: [2024-05-01]\nto: 2024-05-31\n"},
		{"yaml ids as a map", ".yaml", "from: 2024-05-01\nto: 2024-05-31\nadvertiser_ids: {a: 1}\n"},
		{"yaml misspelt key", ".yaml", "from: 2024-05-01\nto: 2024-05-31\ncountry: FR\n"},
		{"toml max_count as text", ".toml", "from = 2024-05-01\nto = 2024-05-31\nmax_count = \"fifty\"\n"},
		{"toml date and time", ".toml", "from = 2024-05-01T10:00:00Z\nto = 2024-05-31\n"},
		{"toml id as a float", ".toml", "from = 2024-05-01\nto = 2024-05-31\nadvertiser_ids = [7.5]\n"},
		{"toml countries as a number", ".toml", "from = 2024-05-01\nto = 2024-05-31\ncountries = 7\n"},
		{"toml misspelt key", ".toml", "from = 2024-05-01\nto = 2024-05-31\ncountry = \"FR\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseFile(tc.ext, []byte(tc.text))
			if err == nil || !isJobError(err) {
				t.Fatalf("err = %v, want a job file error", err)
			}
			msg := err.Error()
			if m := goType.FindString(msg); m != "" {
				t.Errorf("%q names a Go type (%s)", msg, m)
			}
			if !strings.Contains(msg, "line ") && !strings.Contains(msg, "advertiser") && !strings.Contains(msg, "key") {
				t.Errorf("%q says neither the line nor the key", msg)
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("%q is more than one line", msg)
			}
		})
	}
}

// TestJobFileBigIDs: ids beyond 64 bits, or not whole, are refused by name
// rather than rounded.
func TestJobFileBigIDs(t *testing.T) {
	for _, text := range []string{
		"from: 2024-05-01\nto: 2024-05-31\nadvertiser_ids: [18446744073709551616]\n",
		"from: 2024-05-01\nto: 2024-05-31\nadvertiser_ids: [7.057157514558702e18]\n",
	} {
		_, err := ParseFile(".yaml", []byte(text))
		if err == nil || !strings.Contains(err.Error(), "advertiser id") {
			t.Errorf("%q: err = %v, want the id refused", text, err)
		}
	}
	if _, err := ParseFile(".toml", []byte("from = 2024-05-01\nto = 2024-05-31\nadvertiser_ids = [18446744073709551616]\n")); err == nil {
		t.Error("toml: an id beyond 64 bits was accepted")
	}
}

// TestQueryDatasetsInJobFiles: a query's own datasets replace the job's for
// that query, the job's datasets become their union, and normalizing again
// changes nothing (the folder's job hash must not move).
func TestQueryDatasetsInJobFiles(t *testing.T) {
	for _, tc := range []struct {
		path    string
		own     [][]string
		dflt    []string
		union   []string
		uses    [][2]string // query index as text, dataset
		notUses [][2]string
	}{
		{"../examples/elections.yaml",
			[][]string{{Ads, AdDetails, AdReports}, {Ads, Advertisers}, nil, {CommercialContent}},
			[]string{Ads}, []string{Ads, AdDetails, AdReports, CommercialContent, Advertisers},
			[][2]string{{"0", AdReports}, {"2", Ads}, {"3", CommercialContent}},
			[][2]string{{"1", AdReports}, {"1", CommercialContent}, {"3", Ads}, {"2", AdReports}}},
		{"../examples/q1.toml",
			[][]string{{Ads, AdDetails, AdReports, CommercialContent}, nil},
			[]string{Ads}, []string{Ads, AdDetails, AdReports, CommercialContent},
			[][2]string{{"0", CommercialContent}, {"1", Ads}},
			[][2]string{{"1", CommercialContent}, {"1", AdReports}}},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			j, err := LoadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if err := j.Normalize(today, nil); err != nil {
				t.Fatal(err)
			}
			for i, want := range tc.own {
				if !slices.Equal(j.Queries[i].Datasets, want) {
					t.Errorf("query %d datasets %v, want %v", i+1, j.Queries[i].Datasets, want)
				}
			}
			if !slices.Equal(j.Default, tc.dflt) || !slices.Equal(j.Datasets, tc.union) {
				t.Errorf("default %v, datasets %v; want %v and %v", j.Default, j.Datasets, tc.dflt, tc.union)
			}
			for _, u := range tc.uses {
				i, _ := strconv.Atoi(u[0])
				if !j.Uses(j.Queries[i], u[1]) {
					t.Errorf("query %d does not fetch %s", i+1, u[1])
				}
			}
			for _, u := range tc.notUses {
				i, _ := strconv.Atoi(u[0])
				if j.Uses(j.Queries[i], u[1]) {
					t.Errorf("query %d fetches %s, which its comment does not say", i+1, u[1])
				}
			}
			h := j.Hash()
			if err := j.Normalize(today, nil); err != nil || j.Hash() != h {
				t.Errorf("normalizing again: %v; hash %s -> %s", err, h, j.Hash())
			}
		})
	}
	_, err := ParseFile(".yaml", []byte("queries:\n  - countries: [FR]\n    from: 2024-01-01\n    to: 2024-01-02\n  - countries: [DE]\n    from: 2024-01-01\n    to: 2024-01-02\n    datasets: [adds]\n"))
	if err != nil {
		t.Fatal(err)
	}
	j, _ := ParseFile(".yaml", []byte("queries:\n  - countries: [FR]\n    from: 2024-01-01\n    to: 2024-01-02\n  - countries: [DE]\n    from: 2024-01-01\n    to: 2024-01-02\n    datasets: [adds]\n"))
	if err := j.Normalize(today, nil); err == nil || !strings.Contains(err.Error(), `query 2`) || !strings.Contains(err.Error(), `"adds"`) {
		t.Errorf("a misspelt query dataset: %v", err)
	}
}
