package crawl_test

import (
	"context"
	"testing"
	"time"

	"adharvest/countries"
	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/tiktok/apitest"
)

func TestHarvestAdsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		opts       apitest.Options
		query      job.Query // From and To are set below
		maxCount   int
		flushPages int
		cs         []string
		term       string
	}{
		{name: "documented forms", opts: apitest.Options{}, query: job.Query{Countries: []string{"FR", "DE", "NO"}}, cs: []string{"DE", "FR", "NO"}},
		{name: "quirks and holes", opts: apitest.Options{Quirks: true, HolesRate: 0.2}, query: job.Query{Countries: []string{"FR", "DE", "GB", "IS"}}, cs: []string{"DE", "FR", "GB", "IS"}},
		{name: "whole EEA small pages", opts: apitest.Options{Quirks: true, HolesRate: 0.05}, query: job.Query{Countries: []string{"EEA"}}, maxCount: 7, flushPages: 3, cs: countries.EEA},
		{name: "term with non-ASCII", opts: apitest.Options{Quirks: true}, query: job.Query{Countries: []string{"EU"}, Terms: []string{"café"}}, cs: countries.EU27, term: "café"},
		{name: "flaky", opts: apitest.Options{Quirks: true, Faults: apitest.Faults{Err500: 0.08, Err429: 0.05, Truncated: 0.02, HTML504: 0.02, RetryAfter: time.Second}}, query: job.Query{Countries: []string{"FR", "IT", "PL"}}, cs: []string{"FR", "IT", "PL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testkit.StartAPI(t, tc.opts)
			dir := t.TempDir()
			q := tc.query
			q.From, q.To = "2024-01-01", "2024-01-31"
			o := testkit.Options(srv, dir, &job.Job{MaxCount: tc.maxCount, Queries: []job.Query{q}})
			if tc.flushPages > 0 {
				o.FlushPages = tc.flushPages
			}
			if _, err := crawl.Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			want := testkit.ExpectedAds(srv.Universe(), tc.cs, "2024-01-01", "2024-01-31", tc.term)
			if len(want) == 0 {
				t.Fatal("the fake API returned nothing to compare")
			}
			testkit.DiffAds(t, want, testkit.HarvestedAds(t, dir))

			// A second run on the finished folder spends nothing.
			before := srv.Stats().DataRequests
			if _, err := crawl.Run(context.Background(), testkit.Options(srv, dir, nil)); err != nil {
				t.Fatalf("resume of a finished job: %v", err)
			}
			if after := srv.Stats().DataRequests; after != before {
				t.Fatalf("finished job re-run spent %d requests", after-before)
			}
		})
	}
}
