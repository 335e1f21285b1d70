// Package testkit is what the engine, command-line and integration tests
// share: the fake API started with its credentials, crawl.Run with fast
// retries into a folder, the folder's tables read back through the DuckDB
// views (as sorted text rows or sets, or as ads keyed by id and country, to
// compare with the fake API's universe or with another folder), a check that
// no temporary file remains, and golden files with an -update flag.
//
// Only _test.go files import it. Helpers fail the test they are given.
package testkit

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"adharvest/commands"
	"adharvest/crawl"
	"adharvest/job"
	"adharvest/tiktok"
	"adharvest/tiktok/apitest"
)

// Retry is the retry policy of `harvest --retry-base 1ms`: every wait
// scaled down, for harvests of the fake API.
var Retry = commands.FastRetry(time.Millisecond)

// StartAPI starts the fake API with opts and closes it when the test ends.
func StartAPI(t testing.TB, opts apitest.Options) *apitest.Server {
	t.Helper()
	srv := apitest.Start(opts)
	t.Cleanup(srv.Close)
	return srv
}

// StartCorrupt starts the fake API with opts behind apitest.Corrupt, which
// spoils one item in every few with a value that cannot be decoded, and
// returns the fake and the URL to harvest from. Both close when the test ends.
func StartCorrupt(t testing.TB, opts apitest.Options, c apitest.CorruptOptions) (*apitest.Server, string) {
	t.Helper()
	srv := apitest.New(opts)
	front := httptest.NewServer(apitest.Corrupt(srv.Handler(), c))
	t.Cleanup(func() { front.Close(); srv.Close() })
	return srv, front.URL
}

// SetEnvURL is SetEnv for a harvest from url (the front of StartCorrupt).
func SetEnvURL(t *testing.T, url string) {
	SetEnv(t, nil)
	t.Setenv("ADHARVEST_API_URL", url)
}

// API is the client configuration for srv: its URL, the fake's default
// credentials, Retry, and no rate limit.
func API(srv *apitest.Server) tiktok.Config {
	return tiktok.Config{APIURL: srv.URL, ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret, Retry: Retry}
}

// SetEnv gives the command line the fake's default credentials and, unless
// srv is nil, its URL (TIKTOK_CLIENT_KEY, TIKTOK_CLIENT_SECRET,
// ADHARVEST_API_URL) for the rest of the test.
func SetEnv(t *testing.T, srv *apitest.Server) {
	t.Setenv("TIKTOK_CLIENT_KEY", apitest.DefaultClientKey)
	t.Setenv("TIKTOK_CLIENT_SECRET", apitest.DefaultClientSecret)
	if srv != nil {
		t.Setenv("ADHARVEST_API_URL", srv.URL)
	}
}

// Env is the environment of a child adharvest process that harvests srv.
func Env(srv *apitest.Server) []string {
	return append(os.Environ(),
		"TIKTOK_CLIENT_KEY="+apitest.DefaultClientKey,
		"TIKTOK_CLIENT_SECRET="+apitest.DefaultClientSecret,
		"ADHARVEST_API_URL="+srv.URL)
}

// Options is what crawl.Run needs to harvest j from srv into dir as
// `adharvest harvest --out dir --retry-base 1ms --rps 0` does; a nil j
// resumes the job dir holds.
func Options(srv *apitest.Server, dir string, j *job.Job) crawl.Options {
	return crawl.Options{
		Dir: dir, Job: j, API: API(srv),
		Concurrency: 4, FlushPages: 20, SearchIDWait: time.Millisecond,
		Version: commands.Version,
	}
}

// Harvest runs crawl.Run with Options(srv, dir, j) and fails the test unless
// the job is then complete.
func Harvest(t testing.TB, srv *apitest.Server, dir string, j *job.Job) crawl.Result {
	t.Helper()
	res, err := crawl.Run(context.Background(), Options(srv, dir, j))
	if err != nil {
		t.Fatalf("harvest into %s: %v", dir, err)
	}
	return res
}

// EveryDataset is a small job file that touches all five datasets: the job of
// the fault, crash and secret tests.
const EveryDataset = `
datasets: [ads, ad-details, ad-reports, commercial-content, advertisers]
max_count: 20
from: 2024-01-01
to: 2024-01-14
queries:
  - countries: [FR, DE]
  - countries: [FR]
    terms: [coffee]
`

// EveryDatasetJob is EveryDataset parsed, as --job would read it.
func EveryDatasetJob() *job.Job {
	j, err := job.ParseFile(".yaml", []byte(EveryDataset))
	if err != nil {
		panic(err)
	}
	return &j
}

// JobFile writes text as a YAML job file in a folder of the test's and
// returns its path.
func JobFile(t testing.TB, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Minimum is the true minimum of a normalized job on srv's universe: one slice
// per query, term and country over the whole range, full pages, one report
// per country, one detail per distinct ad (see apitest.MinimumCost).
func Minimum(u *apitest.Universe, j job.Job) apitest.MinimumCost {
	spec := apitest.MinimumSpec{Datasets: j.Datasets, MaxCount: j.MaxCount}
	for _, q := range j.Queries {
		from, _ := time.Parse("2006-01-02", q.From)
		to, _ := time.Parse("2006-01-02", q.To)
		spec.Queries = append(spec.Queries, apitest.MinimumQuery{
			Countries: q.Countries, From: from, To: to, Terms: q.Terms, SearchType: q.SearchType,
			AdvertiserIDs: q.AdvertiserIDs, CreatorUsernames: q.CreatorUsernames,
		})
	}
	return u.Minimum(spec)
}
