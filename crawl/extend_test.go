package crawl_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/crawl"
	"adharvest/folder"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/tiktok/apitest"
)

// sentQuery is one data request the fake received, as far as these tests
// look at it: its endpoint, country and date range.
type sentQuery struct {
	endpoint, country, from, to, searchID string
}

// sentSince lists the data requests srv received after the first n.
func sentSince(t *testing.T, srv *apitest.Server, n int) []sentQuery {
	t.Helper()
	var out []sentQuery
	for _, r := range srv.Requests()[n:] {
		if r.Endpoint == apitest.EndpointToken {
			continue
		}
		var b struct {
			Filters struct {
				Country        string `json:"country_code"`
				CreatorCountry string `json:"creator_country_code"`
				Range          struct {
					Min, Max string
				} `json:"ad_published_date_range"`
			}
			SearchID string `json:"search_id"`
		}
		if err := json.Unmarshal(r.Body, &b); err != nil {
			t.Fatalf("%s body %s: %v", r.Endpoint, r.Body, err)
		}
		out = append(out, sentQuery{endpoint: r.Endpoint, country: b.Filters.Country + b.Filters.CreatorCountry, from: b.Filters.Range.Min, to: b.Filters.Range.Max, searchID: b.SearchID})
	}
	return out
}

func shardStates(t *testing.T, dir string) map[string]checkpoint.Shard {
	t.Helper()
	st, err := checkpoint.OpenReadOnly(folder.New(dir).Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	all, err := st.Shards()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]checkpoint.Shard{}
	for _, s := range all {
		out[s.ID] = s
	}
	return out
}

// TestExtendInPlace: a later --to and more countries extend the folder's job:
// the slices it finished are not fetched again, only the new days and the
// new country are, and the tables end equal to one harvest of the whole.
func TestExtendInPlace(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Seed: 5})
	dir, ref := t.TempDir(), t.TempDir()
	mk := func(to string, cs ...string) *job.Job {
		return &job.Job{Datasets: []string{"ads", "ad-reports"}, Queries: []job.Query{{Countries: cs, From: "2024-05-01", To: to}}}
	}
	testkit.Harvest(t, srv, dir, mk("2024-05-31", "FR"))
	before := shardStates(t, dir)

	// A later --to: only the days gained are asked for.
	n := len(srv.Requests())
	res := testkit.Harvest(t, srv, dir, mk("2024-06-10", "FR"))
	sent := sentSince(t, srv, n)
	if len(sent) == 0 {
		t.Fatal("the extension sent nothing")
	}
	for _, s := range sent {
		if s.from < "20240601" {
			t.Errorf("the extension asked %s for %s..%s, days the folder held", s.endpoint, s.from, s.to)
		}
	}
	after := shardStates(t, dir)
	for id, st := range before {
		if a := after[id]; a.Status != checkpoint.StatusDone || !a.UpdatedAt.Equal(st.UpdatedAt) || a.Parts != st.Parts {
			t.Errorf("%s was touched by the extension: %+v, was %+v", id, a, st)
		}
	}
	if q := res.Job.Queries[0]; q.To != "2024-06-10" || len(q.Segments) != 2 {
		t.Fatalf("stored job %+v, want to 2024-06-10 in two segments", q)
	}

	// More countries: only the new country is asked for.
	n = len(srv.Requests())
	testkit.Harvest(t, srv, dir, mk("2024-06-10", "DE", "FR"))
	for _, s := range sentSince(t, srv, n) {
		if s.country != "DE" && s.country != "ALL" {
			t.Errorf("adding DE asked %s for %s %s..%s", s.endpoint, s.country, s.from, s.to)
		}
	}

	// A resume spends nothing, and the manifest kept every run.
	n = len(srv.Requests())
	testkit.Harvest(t, srv, dir, nil)
	if s := sentSince(t, srv, n); len(s) != 0 {
		t.Fatalf("a resume of the extended job sent %d requests: %+v", len(s), s[0])
	}
	man, err := manifest.Read(folder.New(dir).Manifest())
	if err != nil || len(man.Runs) != 4 || !man.Complete {
		t.Fatalf("manifest: %v, %d runs, complete %v; want the 4 runs, complete", err, len(man.Runs), man.Complete)
	}

	testkit.Harvest(t, srv, ref, mk("2024-06-10", "DE", "FR"))
	testkit.SameItems(t, ref, dir, "ads", "ad_reports")
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"DE", "FR"}, "2024-05-01", "2024-06-10", ""), testkit.HarvestedAds(t, dir))
}

// TestExtendRefusesAChangedFilterBeforeSending: a job that changes what an
// existing query filters on is refused with one line naming the difference
// and --restart; nothing is sent and the folder keeps its job.
func TestExtendRefusesAChangedFilterBeforeSending(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{})
	dir := t.TempDir()
	j := &job.Job{Queries: []job.Query{{Countries: []string{"FR"}, From: "2024-01-01", To: "2024-01-10", Terms: []string{"coffee"}}}}
	testkit.Harvest(t, srv, dir, j)
	n := srv.Stats().DataRequests
	k := &job.Job{Queries: []job.Query{{Countries: []string{"FR"}, From: "2024-01-01", To: "2024-01-20", Terms: []string{"coffee"}, SearchType: "fuzzy_phrase"}}}
	_, err := crawl.Run(context.Background(), testkit.Options(srv, dir, k))
	var ie *crawl.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "search type is exact_phrase in the stored job, fuzzy_phrase in this one") || !strings.Contains(err.Error(), "--restart") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("%v: want one line naming the search type and --restart", err)
	}
	if srv.Stats().DataRequests != n {
		t.Fatal("a refused extension sent requests")
	}
	stored, _, err := crawl.StoredJob(dir)
	if err != nil || stored.Queries[0].To != "2024-01-10" {
		t.Fatalf("the stored job changed: %+v %v", stored, err)
	}
}

// TestExtendToYesterdayRolls: `--to yesterday` is stored as the word, and a
// plain resume on a later day extends the job to the new yesterday.
func TestExtendToYesterdayRolls(t *testing.T) {
	t.Parallel()
	clk := apitest.NewClock(time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC))
	srv := testkit.StartAPI(t, apitest.Options{Now: clk.Now})
	dir := t.TempDir()
	o := testkit.Options(srv, dir, &job.Job{Queries: []job.Query{{Countries: []string{"FR"}, From: "2024-02-20", To: "yesterday"}}})
	o.Now = clk.Now
	res, err := crawl.Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if q := res.Job.Queries[0]; q.To != "2024-02-29" || q.ToWord != job.Yesterday {
		t.Fatalf("stored %+v", q)
	}
	clk.Set(clk.Now().AddDate(0, 0, 2))
	o = testkit.Options(srv, dir, nil)
	o.Now = clk.Now
	if res, err = crawl.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if q := res.Job.Queries[0]; q.To != "2024-03-02" || q.ToWord != job.Yesterday {
		t.Fatalf("after a plain resume two days later: %+v, want to 2024-03-02, still yesterday", q)
	}
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"FR"}, "2024-02-20", "2024-03-02", ""), testkit.HarvestedAds(t, dir))
}

// TestExtendWithADatasetFetchesOnlyIt: adding ad-reports to a job of ads
// asks ad/report and nothing else: the ads slices, now counted by the
// country's own report, are cut as before and keep their ids.
func TestExtendWithADatasetFetchesOnlyIt(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Seed: 9})
	dir := t.TempDir()
	mk := func(ds ...string) *job.Job {
		return &job.Job{Datasets: ds, Queries: []job.Query{{Countries: []string{"FR", "IT"}, From: "2024-03-01", To: "2024-03-31"}}}
	}
	testkit.Harvest(t, srv, dir, mk("ads"))
	n := len(srv.Requests())
	testkit.Harvest(t, srv, dir, mk("ads", "ad-reports"))
	sent := sentSince(t, srv, n)
	if len(sent) != 2 {
		t.Errorf("adding ad-reports sent %d requests, want the 2 reports: %+v", len(sent), sent)
	}
	for _, s := range sent {
		if s.endpoint != apitest.EndpointAdReport {
			t.Errorf("adding ad-reports asked %s for %s %s..%s", s.endpoint, s.country, s.from, s.to)
		}
	}
}
