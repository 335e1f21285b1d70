package crawl

import (
	"context"
	"slices"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/queries"
	"adharvest/tiktok"
	"adharvest/tiktok/apitest"

	bolt "go.etcd.io/bbolt"
)

// duckDetailIDs is how the detail fan-out listed its ads before the ad index:
// a DuckDB query over the committed ads parts.
func duckDetailIDs(t *testing.T, dir string) []int64 {
	t.Helper()
	eng, err := queries.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	rows, err := eng.DB().Query(`SELECT ad_id FROM ads_all GROUP BY ad_id
		ORDER BY max(last_shown_date) DESC NULLS LAST, max(first_shown_date) DESC NULLS LAST, ad_id DESC`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// The ad index lists the same ads, in the same order, as the query it
// replaced; a checkpoint written before the index existed is answered from
// its parts and back-filled to the same list.
func TestAdIndexEqualsTheViewsAndBackFills(t *testing.T) {
	srv := apitest.Start(apitest.Options{Quirks: true, HolesRate: 0.05})
	defer srv.Close()
	dir := t.TempDir()
	j := job.Job{Queries: []job.Query{
		{Countries: []string{"FR", "DE", "IT"}, From: "2024-01-01", To: "2024-01-20"},
		{Countries: []string{"FR"}, From: "2024-01-01", To: "2024-01-20", Terms: []string{"coffee"}},
	}}
	_, err := Run(context.Background(), Options{
		Dir: dir, Job: &j, FlushPages: 2,
		API: tiktok.Config{APIURL: srv.URL, ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret},
		Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		t.Fatal(err)
	}
	want := duckDetailIDs(t, dir)
	if len(want) < 100 {
		t.Fatalf("only %d ads harvested; the test needs more", len(want))
	}
	f := folder.New(dir)
	idsOf := func() ([]int64, int) {
		store, err := checkpoint.Open(f.Checkpoint())
		if err != nil {
			t.Fatal(err)
		}
		defer store.Close()
		ids, err := DetailIDs(store)
		if err != nil {
			t.Fatal(err)
		}
		owed, _, err := DetailsOwed(f, store)
		if err != nil {
			t.Fatal(err)
		}
		return ids, owed
	}
	if got, owed := idsOf(); !slices.Equal(got, want) || owed != len(want) {
		t.Fatalf("ad index: %d ads (%d owed), the views %d; equal order %v", len(got), owed, len(want), slices.Equal(got, want))
	}

	// Make it a checkpoint of before the index: no index, no mark.
	db, err := bolt.Open(f.Checkpoint(), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("part_ads")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Delete([]byte("ad_index"))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Read-only, from the parts.
	ro, err := checkpoint.OpenReadOnly(f.Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := ro.AdIndexed(); ok {
		t.Fatal("the index is still marked")
	}
	if owed, _, err := DetailsOwed(f, ro); err != nil || owed != len(want) {
		t.Fatalf("owed from the parts: %d, %v; want %d", owed, err, len(want))
	}
	ro.Close()

	// Back-filled once, then read from the index.
	store, err := checkpoint.Open(f.Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	if err := backfillAdIndex(f, store); err != nil {
		t.Fatal(err)
	}
	ok, _ := store.AdIndexed()
	store.Close()
	if !ok {
		t.Fatal("back-fill did not mark the index")
	}
	if got, _ := idsOf(); !slices.Equal(got, want) {
		t.Fatalf("back-filled index lists %d ads, the views %d", len(got), len(want))
	}
}
