package crawl_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// reference harvests testkit.EveryDataset from a clean fake API. The
// documented contradictions are deterministic per item, so quirks on both
// sides give the same rows.
func reference(t *testing.T) string {
	t.Helper()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	dir := t.TempDir()
	testkit.Harvest(t, srv, dir, testkit.EveryDatasetJob())
	return dir
}

func TestFaultProfilesGiveTheCleanResult(t *testing.T) {
	t.Parallel()
	ref := reference(t)
	for _, tc := range []struct {
		name string
		opts apitest.Options
		rps  float64
	}{
		{name: "flaky", opts: apitest.Flaky()},
		// Slow enough that tokens and search_ids die under the crawl.
		{name: "hostile", opts: apitest.Hostile(), rps: 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testkit.StartAPI(t, tc.opts)
			dir := t.TempDir()
			o := testkit.Options(srv, dir, testkit.EveryDatasetJob())
			o.API.RPS = tc.rps
			if _, err := crawl.Run(context.Background(), o); err != nil {
				t.Fatalf("under %s: %v", tc.name, err)
			}
			if tc.name == "hostile" {
				// Search_ids die under this crawl: a slice may be narrowed
				// and its rest sliced anew, so which slice found a row may
				// differ; the rows may not.
				testkit.SameItems(t, ref, dir)
			} else {
				testkit.SameTables(t, ref, dir)
			}
			st := srv.Stats()
			t.Logf("%s: %d data requests, codes %v, %d tokens", tc.name, st.DataRequests, st.ByCode, st.Tokens)
			if tc.name == "flaky" && st.ByCode["internal_error"]+st.ByCode["rate_limit_exceeded"] == 0 {
				t.Fatal("no fault was injected")
			}
			if tc.name == "hostile" && st.Tokens < 2 {
				t.Fatal("the token never expired under the crawl")
			}
		})
	}
	t.Run("quota", func(t *testing.T) {
		srv := testkit.StartAPI(t, apitest.Quota(40))
		dir := t.TempDir()
		var (
			err     error
			se      *crawl.StopError
			stopped = true // exit 75
			days    = 0
		)
		for ; stopped && days < 30; days++ {
			srv.ResetQuota()
			o := testkit.Options(srv, dir, testkit.EveryDatasetJob())
			o.Concurrency = 2
			_, err = crawl.Run(context.Background(), o)
			stopped = errors.As(err, &se)
			if stopped && !strings.Contains(se.Reason, "daily quota") {
				t.Fatalf("stopped without the quota message: %v", err)
			}
		}
		if err != nil {
			t.Fatalf("%v after %d quota days", err, days)
		}
		if days < 3 {
			t.Fatalf("finished in %d days: the quota never bit", days)
		}
		testkit.SameTables(t, ref, dir)
		// A stopped run repeats no request that had succeeded.
		seen := map[string]bool{}
		repeated := 0
		for _, r := range srv.Requests() {
			if r.Status != 200 || r.Endpoint == "oauth/token" {
				continue
			}
			k := r.Endpoint + string(r.Body)
			if seen[k] {
				repeated++
			}
			seen[k] = true
		}
		t.Logf("quota profile: %d days, %d successful requests repeated", days, repeated)
		if repeated > 0 {
			t.Fatalf("%d successful requests were repeated across quota stops", repeated)
		}
	})
}

func TestStaleLockIsTakenOver(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{})
	dir := t.TempDir()
	// A lock file left by a process that died: nobody holds the flock.
	os.MkdirAll(filepath.Join(dir, "_adharvest"), 0o755)
	os.WriteFile(filepath.Join(dir, "_adharvest", "lock"), []byte(`{"pid":999999,"host":"gone","started":"2024-01-01T00:00:00Z"}`), 0o644)
	if _, err := crawl.Run(context.Background(), testkit.Options(srv, dir, adsJob("2024-01-01", "2024-01-07", "FR"))); err != nil {
		t.Fatalf("stale lock blocked the run: %v", err)
	}
}

func TestDailyQuotaBudgetAddsUpAcrossRuns(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{})
	dir := t.TempDir()
	run := func() error {
		j := adsJob("2024-01-01", "2024-02-29", "FR", "DE", "IT")
		j.MaxCount = 10
		o := testkit.Options(srv, dir, j)
		o.DailyQuota = 25
		_, err := crawl.Run(context.Background(), o)
		return err
	}
	err := run()
	var se *crawl.StopError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "--daily-quota") {
		t.Fatalf("%v, want a *crawl.StopError (exit 75) naming --daily-quota", err)
	}
	if n := srv.Stats().DataRequests; n != 25 {
		t.Fatalf("%d requests under a budget of 25", n)
	}
	// A second run the same day has nothing left to spend.
	err = run()
	if !errors.As(err, &se) || srv.Stats().DataRequests != 25 {
		t.Fatalf("second run: %v, %d requests in all", err, srv.Stats().DataRequests)
	}
	// status --daily-quota 25 then shows "25 of 25 today"; commands tests
	// check the line.
	s, err := crawl.ReadStatus(dir, time.Now())
	if err != nil || s.Requests != 25 {
		t.Fatalf("status: %d requests today, want 25 of 25: %v", s.Requests, err)
	}
}
