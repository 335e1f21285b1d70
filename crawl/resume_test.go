package crawl_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
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

// adsJob is a job of the ads dataset alone for countries over [from, to].
func adsJob(from, to string, countries ...string) *job.Job {
	return &job.Job{Queries: []job.Query{{Countries: countries, From: from, To: to}}}
}

// TestQuotaStopThenResumeWithExpiredSearchIDs runs out of quota mid-crawl,
// waits until every stored search_id has expired, and resumes: the shards
// caught mid-chain must restart or narrow, and the result must still be exact.
func TestQuotaStopThenResumeWithExpiredSearchIDs(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true, DailyQuota: 60, SearchIDTTL: 300 * time.Millisecond})
	dir := t.TempDir()
	j := adsJob("2024-01-01", "2024-02-29", "FR", "DE", "IT")
	j.MaxCount = 10
	o := testkit.Options(srv, dir, j)
	o.Concurrency = 1
	_, runErr := crawl.Run(context.Background(), o)
	var se *crawl.StopError
	if !errors.As(runErr, &se) {
		t.Fatalf("%v, want a *crawl.StopError (exit 75) on a spent quota", runErr)
	}
	// The command line prints the reason and ResetAt; commands tests check
	// that message as printed.
	if !strings.Contains(se.Reason, "daily quota") || se.ResetAt.UTC().Format("15:04 MST") != "00:00 UTC" {
		t.Fatalf("quota stop does not say when to resume: %q, resets at %s", se.Reason, se.ResetAt)
	}
	if n := srv.Stats().ByCode["daily_quota_limit_exceeded"]; n < 1 || n > 4 {
		t.Fatalf("%d quota errors: quota errors must not be retried", n)
	}
	man, err := manifest.Read(folder.New(dir).Manifest())
	if err != nil || man.Complete || man.Runs[0].Status != "stopped" {
		t.Fatalf("manifest after quota stop: %+v %v", man, err)
	}

	// Each "day" the quota comes back; by then every stored search_id is stale.
	days := 1
	for ; runErr != nil && days < 40; days++ {
		time.Sleep(350 * time.Millisecond)
		srv.ResetQuota()
		_, runErr = crawl.Run(context.Background(), testkit.Options(srv, dir, nil))
		if runErr != nil && !errors.As(runErr, &se) {
			t.Fatalf("resume: %v", runErr)
		}
	}
	if runErr != nil {
		t.Fatalf("not finished after %d quota days", days)
	}
	t.Logf("finished after %d quota days", days)
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"DE", "FR", "IT"}, "2024-01-01", "2024-02-29", ""), testkit.HarvestedAds(t, dir))

	st, err := checkpoint.OpenReadOnly(folder.New(dir).Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	shards, _ := st.Shards()
	// An expired chain either restarts its slice or, as ad/query pages
	// newest first, narrows it: the days not reached become a new slice.
	restarted, narrowed := 0, 0
	for _, s := range shards {
		restarted += s.Restarts
		if s.Narrowed != "" {
			narrowed++
		}
	}
	if restarted+narrowed == 0 {
		t.Fatal("no shard restarted or narrowed, so the expired-search_id path was not exercised")
	}
	t.Logf("%d restarts, %d slices narrowed, %d requests", restarted, narrowed, srv.Stats().DataRequests)
}

func TestEndlessEmptyPagesEndTheShard(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{EndlessTerm: "forever"})
	dir := t.TempDir()
	j := adsJob("2024-01-01", "2024-01-07", "FR")
	j.Queries[0].Terms = []string{"forever"}
	testkit.Harvest(t, srv, dir, j)
	if n := srv.Stats().ByEndpoint["ad/query"]; n != 25 {
		t.Fatalf("%d requests for an endless empty chain, want the bound of 25", n)
	}
	st, _ := checkpoint.OpenReadOnly(folder.New(dir).Checkpoint())
	defer st.Close()
	shards, _ := st.Shards()
	if len(shards) != 1 || !strings.Contains(shards[0].Reason, "25 consecutive empty pages") {
		t.Fatalf("shard does not record why it ended: %+v", shards)
	}
}

// TestDifferentJobNeedsRestart: a job whose query filters otherwise than
// the folder's (more countries or a later --to extend it instead) is
// refused, naming the difference, and nothing is sent.
func TestDifferentJobNeedsRestart(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{})
	dir := t.TempDir()
	first := func() *job.Job { return adsJob("2024-01-01", "2024-01-14", "FR") }
	other := func() *job.Job { j := adsJob("2024-01-01", "2024-01-14", "FR"); j.WindowDays = 7; return j }
	testkit.Harvest(t, srv, dir, first())
	before := srv.Stats().DataRequests
	for what, j := range map[string]*job.Job{
		"the window":         other(),
		"the advertiser ids": func() *job.Job { j := first(); j.Queries[0].AdvertiserIDs = []int64{42}; return j }(),
	} {
		_, err := crawl.Run(context.Background(), testkit.Options(srv, dir, j))
		var ie *crawl.InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), "different job") || !strings.Contains(err.Error(), what) || !strings.Contains(err.Error(), "--restart") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%v, want a *crawl.InputError (exit 2), one line naming %s and --restart", err, what)
		}
	}
	if n := srv.Stats().DataRequests; n != before {
		t.Fatalf("a refused job sent %d requests", n-before)
	}
	if _, err := crawl.Run(context.Background(), testkit.Options(srv, dir, first())); err != nil {
		t.Fatalf("the same job again must be accepted: %v", err)
	}
	old, _ := filepath.Glob(filepath.Join(dir, "ads", "country_code=FR", "*.parquet"))
	if len(old) == 0 {
		t.Fatal("the first job wrote no ads part")
	}
	o := testkit.Options(srv, dir, other())
	o.Restart = true
	if _, err := crawl.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"FR"}, "2024-01-01", "2024-01-14", ""), testkit.HarvestedAds(t, dir))
	for _, p := range old {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("--restart kept the old job's part %s", p)
		}
	}
}

func TestSecondHarvestOnSameFolderIsRefused(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{})
	dir := t.TempDir()
	lock, err := checkpoint.Acquire(folder.New(dir).Lock(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	_, err = crawl.Run(context.Background(), testkit.Options(srv, dir, adsJob("2024-01-01", "2024-01-07", "FR")))
	var ie *crawl.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "in use by adharvest pid") {
		t.Fatalf("%v, want a *crawl.InputError (exit 2) saying who holds the folder", err)
	}
}

func TestRestartWithoutFlagsRestartsTheStoredJob(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{})
	dir := t.TempDir()
	testkit.Harvest(t, srv, dir, adsJob("2024-01-01", "2024-01-07", "FR"))
	before := srv.Stats().DataRequests
	o := testkit.Options(srv, dir, nil)
	o.Restart = true
	if _, err := crawl.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if srv.Stats().DataRequests == before {
		t.Fatal("--restart spent no requests, so nothing was harvested afresh")
	}
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"FR"}, "2024-01-01", "2024-01-07", ""), testkit.HarvestedAds(t, dir))
}

// TestRecentWindowsAreHarvestedAgain: days that were fresh when fetched may
// still be filling up, so the next run fetches them again and replaces them.
func TestRecentWindowsAreHarvestedAgain(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{})
	dir := t.TempDir()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	from, to := today.AddDate(0, 0, -20).Format("2006-01-02"), today.AddDate(0, 0, -1).Format("2006-01-02")
	testkit.Harvest(t, srv, dir, adsJob(from, to, "FR"))
	first := srv.Stats().ByEndpoint["ad/query"]
	// status mentions provisional shards ("the next run harvests them
	// again") exactly when it counts some; commands tests check the line.
	s, err := crawl.ReadStatus(dir, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	provisional := 0
	for _, d := range s.Job.Datasets {
		provisional += s.Counts[d].Provisional
	}
	if provisional == 0 {
		t.Fatalf("status counts no provisional shard: %+v", s.Counts)
	}
	testkit.Harvest(t, srv, dir, adsJob(from, to, "FR"))
	again := srv.Stats().ByEndpoint["ad/query"] - first
	if again == 0 || again >= first {
		t.Fatalf("second run spent %d ad/query requests (first %d): want only the recent windows again", again, first)
	}
	testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"FR"}, from, to, ""), testkit.HarvestedAds(t, dir))
}
