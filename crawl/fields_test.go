package crawl_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"adharvest/crawl"
	"adharvest/folder"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/tiktok/apitest"
)

// TestFieldProbe harvests from a service that does not know the newest
// fields yet (400 invalid_params naming each): the harvest drops each such
// field, remembers it for the folder (status and manifest say so), and
// completes with every ad; a second run pays for no probe again. Against a
// service that knows them, nothing is dropped and the columns fill.
func TestFieldProbe(t *testing.T) {
	t.Parallel()
	j := func() *job.Job {
		return &job.Job{Datasets: []string{job.Ads, job.AdDetails},
			Queries: []job.Query{{Countries: []string{"FR"}, From: "2024-01-01", To: "2024-01-14"}}}
	}
	t.Run("refused", func(t *testing.T) {
		t.Parallel()
		srv := testkit.StartAPI(t, apitest.Options{Quirks: true, RejectNewFields: true})
		dir := t.TempDir()
		// One worker, so that each field is refused exactly once; a first
		// run stopped by its quota after the ad/query probes, and a resume.
		o := testkit.Options(srv, dir, j())
		o.Concurrency, o.DailyQuota = 1, 6
		var se *crawl.StopError
		if _, err := crawl.Run(context.Background(), o); !errors.As(err, &se) {
			t.Fatalf("first run: %v, want a quota stop", err)
		}
		if n := srv.Stats().ByCode["invalid_params"]; n != 5 {
			t.Fatalf("first run: %d invalid_params answers, want the 5 newer ad/query fields", n)
		}
		o.DailyQuota = 0
		if _, err := crawl.Run(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		// The resume asked ad/query without the fields refused before: the
		// only new refusals are ad/detail's own.
		if n := srv.Stats().ByCode["invalid_params"]; n != 5+7 {
			t.Errorf("%d invalid_params answers in all, want 5 + 7: a field refused once is not asked again", n)
		}
		st := statusOf(t, dir)
		want := map[string][]string{
			"ad/query":  {"ad.advertising_objective", "ad.call_to_action", "ad.download_url", "ad.external_url", "ad.title"},
			"ad/detail": {"ad.advertising_objective", "ad.call_to_action", "ad.download_url", "ad.external_url", "ad.rejection_info", "ad.title", "advertiser.country_code"},
		}
		for ep, fields := range want {
			got := slices.Clone(st.DroppedFields[ep])
			slices.Sort(got)
			if !slices.Equal(got, fields) {
				t.Errorf("status: %s dropped %v, want %v", ep, got, fields)
			}
		}
		man, err := manifest.Read(folder.New(dir).Manifest())
		if err != nil {
			t.Fatal(err)
		}
		if testkit.JSON(man.DroppedFields) != testkit.JSON(st.DroppedFields) {
			t.Errorf("manifest dropped_fields %v, status %v", man.DroppedFields, st.DroppedFields)
		}
		testkit.DiffAds(t, testkit.ExpectedAds(srv.Universe(), []string{"FR"}, "2024-01-01", "2024-01-14", ""), testkit.HarvestedAds(t, dir))
		db := testkit.Open(t, dir)
		defer db.Close()
		if n := testkit.Int(t, db, "SELECT count(title) + count(external_url) FROM ads_all"); n != 0 {
			t.Errorf("%d values in columns the service was never asked for", n)
		}
		if n := testkit.Int(t, db, "SELECT count(*) FROM ad_details_all"); n == 0 {
			t.Error("no ad details")
		}
	})
	t.Run("known", func(t *testing.T) {
		t.Parallel()
		srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
		dir := t.TempDir()
		testkit.Harvest(t, srv, dir, j())
		if n := srv.Stats().ByCode["invalid_params"]; n != 0 {
			t.Errorf("%d invalid_params answers from a service that knows every field", n)
		}
		if st := statusOf(t, dir); len(st.DroppedFields) != 0 {
			t.Errorf("dropped %v", st.DroppedFields)
		}
		db := testkit.Open(t, dir)
		defer db.Close()
		for _, q := range []string{
			"SELECT count(title) FROM ads_all",
			"SELECT count(advertising_objective) FROM ad_details_all",
			"SELECT count(advertiser_country_code) FROM ad_details_all",
			"SELECT count(*) FROM ads_all, unnest(videos) AS v(v) WHERE v.v.cover_image_url IS NOT NULL",
		} {
			if testkit.Int(t, db, q) == 0 {
				t.Errorf("%s: none", q)
			}
		}
	})
}

// TestRefusedRequiredFieldKeepsDetailsOwed: a 400 that names a field the
// tool cannot do without is about the request, not the ad: the details stay
// owed (not refused for good), the run says it failed, and a later run
// against a service that takes the field fetches them all.
func TestRefusedRequiredFieldKeepsDetailsOwed(t *testing.T) {
	t.Parallel()
	j := &job.Job{Datasets: []string{job.Ads, job.AdDetails},
		Queries: []job.Query{{Countries: []string{"FR"}, From: "2024-01-01", To: "2024-01-07"}}}
	bad := testkit.StartAPI(t, apitest.Options{Quirks: true, RejectFields: []string{"ad_group.targeting_info"}})
	dir := t.TempDir()
	o := testkit.Options(bad, dir, j)
	if _, err := crawl.Run(context.Background(), o); err == nil {
		t.Fatal("the harvest succeeded although every ad/detail call was refused")
	}
	st := statusOf(t, dir)
	if st.DetailsRefused != 0 || st.DetailsOwed == 0 {
		t.Fatalf("details owed %d, refused %d: want all owed, none refused", st.DetailsOwed, st.DetailsRefused)
	}
	good := testkit.StartAPI(t, apitest.Options{Quirks: true})
	testkit.Harvest(t, good, dir, nil)
	if st := statusOf(t, dir); st.DetailsOwed != 0 || st.DetailsRefused != 0 {
		t.Errorf("after a good run: %d details owed, %d refused", st.DetailsOwed, st.DetailsRefused)
	}
}
