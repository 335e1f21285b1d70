package crawl

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/job"
)

var today = time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

func normalized(t *testing.T, j job.Job) job.Job {
	t.Helper()
	if err := j.Normalize(today, nil); err != nil {
		t.Fatal(err)
	}
	return j
}

func planIDs(j job.Job) []string {
	var ids []string
	for _, sh := range Plan(j) {
		ids = append(ids, sh.ID)
	}
	return ids
}

func TestJobFileEqualsFlags(t *testing.T) {
	flags := normalized(t, job.Job{
		Datasets: []string{"ads", "ad-reports", "commercial-content"}, WindowDays: 14,
		Queries: []job.Query{{Countries: []string{"de", "FR"}, From: "20240101", To: "2024-02-29", Terms: []string{"café", "vote"},
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
		j, err := job.ParseFile(ext, []byte(text))
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

// With fixed windows (--window 7d) the plan is every shard up front.
func TestPlanFixedWindows(t *testing.T) {
	var warned []string
	j := job.Job{Datasets: []string{"ads", "ad-reports", "commercial-content", "advertisers"}, WindowDays: 7,
		Queries: []job.Query{{Countries: []string{"FR", "GB"}, From: "2024-01-01", To: "2024-01-10", Terms: []string{"coffee"}}}}
	if err := j.Normalize(today, func(s string) { warned = append(warned, s) }); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "GB") {
		t.Fatalf("warnings %v", warned)
	}
	count := map[string]int{}
	for _, sh := range Plan(j) {
		count[sh.Dataset]++
		if sh.Dataset == job.CommercialContent && sh.Partition == "GB" {
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
	all := normalized(t, job.Job{Datasets: []string{"ad-reports"}, WindowDays: 7, Queries: []job.Query{{Countries: []string{"ALL"}, From: "2024-01-01", To: "2024-01-07"}}})
	if p := Plan(all); len(p) != 1 || p[0].Partition != "ALL" {
		t.Fatalf("every country should be one ALL report request, got %d shards", len(p))
	}
	// Overlapping queries plan each shard once.
	dup := normalized(t, job.Job{WindowDays: 7, Queries: []job.Query{{Countries: []string{"FR"}, From: "2024-01-01", To: "2024-01-07"}, {Countries: []string{"FR", "DE"}, From: "2024-01-01", To: "2024-01-07"}}})
	if p := Plan(dup); len(p) != 2 {
		t.Fatalf("overlapping queries planned %d shards, want 2", len(p))
	}
}

func TestProvisional(t *testing.T) {
	sh := &Shard{Window: job.Window{From: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 7, 0, 0, 0, 0, time.UTC)}}
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

func TestExampleJobFilesPlan(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "examples", "*"))
	if len(files) == 0 {
		t.Fatal("no example job files")
	}
	for _, f := range files {
		j, err := job.LoadFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(Plan(normalized(t, j))) == 0 {
			t.Fatalf("%s plans nothing", f)
		}
	}
}
