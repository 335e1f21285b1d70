package crawl_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// One bad value (an id of 1.7e18 or over 2^63, "12 34", a date 2023-13-45,
// an object where text belongs, an id of 0 or below) used to fail its whole
// page, good ads and all, and the slice for good, so every re-run paid again.
// Now the good items are stored, each bad one is a row of rejects, the slices
// complete, and a second run spends nothing. Unreadable reach texts (NaN,
// 999999999999B) keep their text with NULL bounds, never a negative one.
func TestBadItemsAreRejectsAndTheirPagesAreKept(t *testing.T) {
	t.Parallel()
	copts := apitest.CorruptOptions{Every: 7, Seed: 11}
	srv, url := testkit.StartCorrupt(t, apitest.Options{Quirks: true}, copts)
	dir := t.TempDir()
	from, to := "2024-01-01", "2024-01-14"
	j := adsJob(from, to, "FR", "DE")
	j.Datasets = []string{"ads", "ad-details", "ad-reports"}
	o := testkit.Options(srv, dir, j)
	o.API.APIURL = url
	if _, err := crawl.Run(context.Background(), o); err != nil {
		t.Fatalf("a harvest with bad items did not complete: %v", err)
	}

	// Exactly the good ads, and a reject for every bad one.
	all := testkit.ExpectedAds(srv.Universe(), []string{"FR", "DE"}, from, to, "")
	want := map[testkit.AdKey]bool{}
	rejected := map[string]bool{}
	reach := 0
	for k := range all {
		form, spoilt := copts.Pick(apitest.EndpointAdQuery, strconv.FormatInt(k.ID, 10))
		switch {
		case spoilt && form.Rejected():
			rejected[strconv.FormatInt(k.ID, 10)+"/"+k.Country] = true
		case spoilt:
			reach++
			want[k] = true
		default:
			want[k] = true
		}
	}
	if len(rejected) < 5 || reach < 2 {
		t.Fatalf("the test spoils too little: %d rejects, %d bad reach texts", len(rejected), reach)
	}
	testkit.DiffAds(t, want, testkit.HarvestedAds(t, dir))
	db := testkit.Open(t, dir)
	n := testkit.Int(t, db, `SELECT count(*) FROM rejects WHERE endpoint = 'ad/query'`)
	if n != int64(len(rejected)) {
		t.Errorf("%d ad/query rejects, want %d", n, len(rejected))
	}
	if neg := testkit.Int(t, db, `SELECT count(*) FROM ads WHERE reach_lower < 0 OR reach_upper < 0`); neg != 0 {
		t.Errorf("%d ads with a negative reach bound", neg)
	}
	if kept := testkit.Int(t, db, `SELECT count(*) FROM ads WHERE reach_text LIKE '%NaN%' AND reach_lower IS NULL AND reach_upper IS NULL`); kept == 0 {
		t.Error("no unreadable reach text kept with NULL bounds")
	}
	st, err := crawl.ReadStatus(dir, time.Now())
	if err != nil || st.Rejects < len(rejected) {
		t.Errorf("status counts %d rejects (%v), want at least %d", st.Rejects, err, len(rejected))
	}
	for d, c := range st.Counts {
		if c.Done != c.Shards || c.Failed > 0 {
			t.Errorf("%s: %d of %d shards done, %d failed", d, c.Done, c.Shards, c.Failed)
		}
	}

	// Nothing is owed: a second run sends no request.
	before := srv.Stats().DataRequests
	if _, err := crawl.Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats().DataRequests - before; n != 0 {
		t.Errorf("a second run sent %d requests", n)
	}
}
