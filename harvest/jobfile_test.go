package harvest

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adharvest/checkpoint"
)

var today = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func normalized(t *testing.T, j Job) Job {
	t.Helper()
	if err := j.Normalize(today, nil); err != nil {
		t.Fatal(err)
	}
	return j
}

func planIDs(j Job) []string {
	var ids []string
	for _, sh := range Plan(j) {
		ids = append(ids, sh.ID)
	}
	return ids
}

func TestJobFileEqualsFlags(t *testing.T) {
	flags := normalized(t, Job{
		Datasets: []string{"ads", "ad-reports", "commercial-content"}, WindowDays: 14,
		Queries: []Query{{Countries: []string{"de", "FR"}, From: "20240101", To: "2024-02-29", Terms: []string{"café", "vote"},
			SearchType: "fuzzy_phrase", AdvertiserIDs: []int64{7057157514558702338}, CreatorUsernames: []string{"@joe"}}},
	})
	yamlJob := `
datasets: commercial-content, ads, ad-reports
window: 2w
countries: [FR, DE]
from: 2024-01-01
to: "20240229"
terms: [vote, café]
search_type: FUZZY_PHRASE
advertiser_ids: ["7057157514558702338"]
creator_usernames: [joe]
`
	tomlJob := `
datasets = ["ads", "ad-reports", "commercial-content"]
window = "14"
countries = "FR,DE"
from = "2024-01-01"
to = "2024-02-29"
terms = ["café", "vote"]
search_type = "fuzzy_phrase"
advertiser_ids = ["7057157514558702338"]
creator_usernames = ["joe"]
`
	for ext, text := range map[string]string{".yaml": yamlJob, ".toml": tomlJob} {
		j, err := ParseJobFile(ext, []byte(text))
		if err != nil {
			t.Fatalf("%s: %v", ext, err)
		}
		j = normalized(t, j)
		if j.Hash() != flags.Hash() {
			t.Errorf("%s job hash %s differs from flags %s:\n%+v\n%+v", ext, j.Hash(), flags.Hash(), j, flags)
		}
		if !slices.Equal(planIDs(j), planIDs(flags)) {
			t.Errorf("%s plan differs from the flags' plan", ext)
		}
	}
}

func TestJobFileQueriesInheritDefaults(t *testing.T) {
	j, err := ParseJobFile(".yaml", []byte(`
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
		{"bad window", ".yaml", "window: fortnight\n", "--window"},
		{"wrong extension", ".json", "{}", ".json"},
		{"malformed yaml", ".yaml", "datasets: [ads\n", "--job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseJobFile(tc.ext, []byte(tc.text))
			var ue *UsageError
			if err == nil || !strings.Contains(err.Error(), tc.want) || !asUsage(err, &ue) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want a one-line usage error naming %q", err, tc.want)
			}
		})
	}
}

func asUsage(err error, ue **UsageError) bool {
	u, ok := err.(*UsageError)
	*ue = u
	return ok
}

func TestExampleJobFilesParse(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*"))
	if len(files) == 0 {
		t.Fatal("no example job files")
	}
	for _, f := range files {
		j, err := LoadJobFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := j.Normalize(today, nil); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(Plan(j)) == 0 {
			t.Fatalf("%s plans nothing", f)
		}
	}
}

func TestPlan(t *testing.T) {
	var warned []string
	j := Job{Datasets: []string{"ads", "ad-reports", "commercial-content", "advertisers"},
		Queries: []Query{{Countries: []string{"FR", "GB"}, From: "2024-01-01", To: "2024-01-10", Terms: []string{"coffee"}}}}
	if err := j.Normalize(today, func(s string) { warned = append(warned, s) }); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "GB") {
		t.Fatalf("warnings %v", warned)
	}
	count := map[string]int{}
	for _, sh := range Plan(j) {
		count[sh.Dataset]++
		if sh.Dataset == DatasetCommercialContent && sh.Partition == "GB" {
			t.Fatal("commercial content planned for GB")
		}
	}
	// 2 windows (1-7, 8-10) × 2 countries; content only FR; advertisers per term.
	want := map[string]int{"ads": 4, "ad-reports": 4, "commercial-content": 2, "advertisers": 1}
	for d, n := range want {
		if count[d] != n {
			t.Errorf("%s: %d shards, want %d", d, count[d], n)
		}
	}
	all := normalized(t, Job{Datasets: []string{"ad-reports"}, Queries: []Query{{Countries: []string{"ALL"}, From: "2024-01-01", To: "2024-01-07"}}})
	if p := Plan(all); len(p) != 1 || p[0].Partition != "ALL" {
		t.Fatalf("every country should be one ALL report request, got %d shards", len(p))
	}
	// Overlapping queries plan each shard once.
	dup := normalized(t, Job{Queries: []Query{{Countries: []string{"FR"}, From: "2024-01-01", To: "2024-01-07"}, {Countries: []string{"FR", "DE"}, From: "2024-01-01", To: "2024-01-07"}}})
	if p := Plan(dup); len(p) != 2 {
		t.Fatalf("overlapping queries planned %d shards, want 2", len(p))
	}
}

func TestNormalizeUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		job  Job
		want string
	}{
		{"advertisers without term", Job{Datasets: []string{"advertisers"}, Queries: []Query{{From: "2024-01-01", To: "2024-01-02"}}}, "--term"},
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

func FuzzParseJobFile(f *testing.F) {
	for _, p := range []string{"../examples/elections.yaml", "../examples/q1.toml"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Ext(p), b)
	}
	f.Add(".yaml", []byte("queries: [{countries: [FR], from: 2024-01-01, to: 2024-01-02}]"))
	f.Fuzz(func(t *testing.T, ext string, b []byte) {
		j, err := ParseJobFile(ext, b)
		if err != nil {
			if _, ok := err.(*UsageError); !ok {
				t.Fatalf("non-usage error %T: %v", err, err)
			}
			return
		}
		if j.Normalize(today, nil) == nil {
			_ = Plan(j)
		}
	})
}

func TestProvisional(t *testing.T) {
	sh := &Shard{Window: Window{From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 7, 0, 0, 0, 0, time.UTC)}}
	done := func(at time.Time) checkpoint.Shard {
		return checkpoint.Shard{Status: checkpoint.StatusDone, UpdatedAt: at}
	}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2024, 1, 8, 12, 0, 0, 0, time.UTC), true},  // the day after the window
		{time.Date(2024, 1, 10, 23, 0, 0, 0, time.UTC), true}, // three days after
		{time.Date(2024, 1, 11, 0, 0, 0, 0, time.UTC), false}, // old enough
		{time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), false},
	} {
		if got := Provisional(sh, done(tc.at)); got != tc.want {
			t.Errorf("finished %s: provisional = %v", tc.at, got)
		}
	}
	if Provisional(&Shard{}, done(time.Now())) {
		t.Error("a shard without a window (advertisers) is never provisional")
	}
}
