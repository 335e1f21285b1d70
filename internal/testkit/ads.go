package testkit

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"adharvest/queries"
	"adharvest/tiktok/apitest"
)

// AdKey is one row of the ads view: an ad as shown in one country.
type AdKey struct {
	ID      int64
	Country string
}

// ExpectedAds is what a complete harvest of countries over [from, to]
// (YYYY-MM-DD) with the search term must hold, straight from the fake API's
// universe, independent of paging.
func ExpectedAds(u *apitest.Universe, countries []string, from, to string, term string) map[AdKey]bool {
	f, _ := time.Parse("2006-01-02", from)
	tt, _ := time.Parse("2006-01-02", to)
	want := map[AdKey]bool{}
	for _, c := range countries {
		for _, id := range u.AdIDs(apitest.AdQuery{Country: c, From: f, To: tt, Term: term}) {
			want[AdKey{id, c}] = true
		}
	}
	return want
}

// HarvestedAds reads the ads view of dir back through DuckDB, and checks
// that the raw files hold no (ad_id, country, term) twice.
func HarvestedAds(t testing.TB, dir string) map[AdKey]bool {
	t.Helper()
	eng, err := queries.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	db := eng.DB()
	var all, distinct int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT (ad_id, country_code, search_term)) FROM ads_all`).Scan(&all, &distinct); err != nil {
		t.Fatal(err)
	}
	if all != distinct {
		t.Fatalf("ads_all holds %d rows but %d distinct: %d written twice", all, distinct, all-distinct)
	}
	rows, err := db.Query(`SELECT ad_id, country_code FROM ads`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[AdKey]bool{}
	for rows.Next() {
		var k AdKey
		if err := rows.Scan(&k.ID, &k.Country); err != nil {
			t.Fatal(err)
		}
		if got[k] {
			t.Fatalf("view ads has %v twice", k)
		}
		got[k] = true
	}
	return got
}

// DiffAds fails the test unless got holds exactly the ads of want.
func DiffAds(t testing.TB, want, got map[AdKey]bool) {
	t.Helper()
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, fmt.Sprint(k))
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, fmt.Sprint(k))
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Fatalf("harvest differs from the API: %d missing (first %v), %d unexpected (first %v); want %d rows, got %d",
			len(missing), first(missing), len(extra), first(extra), len(want), len(got))
	}
}
