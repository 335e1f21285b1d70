package main

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"adharvest/countries"
	"adharvest/queries"
	"adharvest/tiktok/apitest"
)

type adKey struct {
	id      int64
	country string
}

// expectedAds is what a complete harvest of countries over [from, to] must hold,
// straight from the fake API's universe, independent of paging.
func expectedAds(u *apitest.Universe, cs []string, from, to string, term string) map[adKey]bool {
	f, _ := time.Parse("2006-01-02", from)
	tt, _ := time.Parse("2006-01-02", to)
	want := map[adKey]bool{}
	for _, c := range cs {
		for _, id := range u.AdIDs(apitest.AdQuery{Country: c, From: f, To: tt, Term: term}) {
			want[adKey{id, c}] = true
		}
	}
	return want
}

// harvestedAds reads the ads view back through DuckDB, and checks that the
// raw files hold no (ad_id, country, term) twice.
func harvestedAds(t *testing.T, dir string) map[adKey]bool {
	t.Helper()
	eng, err := queries.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	var all, distinct int
	if err := eng.DB().QueryRow(`SELECT count(*), count(DISTINCT (ad_id, country_code, search_term)) FROM ads_all`).Scan(&all, &distinct); err != nil {
		t.Fatal(err)
	}
	if all != distinct {
		t.Fatalf("ads_all holds %d rows but %d distinct: %d written twice", all, distinct, all-distinct)
	}
	rows, err := eng.DB().Query(`SELECT ad_id, country_code FROM ads`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[adKey]bool{}
	for rows.Next() {
		var k adKey
		if err := rows.Scan(&k.id, &k.country); err != nil {
			t.Fatal(err)
		}
		if got[k] {
			t.Fatalf("view ads has %v twice", k)
		}
		got[k] = true
	}
	return got
}

func diffKeys(t *testing.T, want, got map[adKey]bool) {
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

func first(s []string) []string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}

func TestHarvestAdsEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts apitest.Options
		args []string
		cs   []string
		term string
	}{
		{name: "documented forms", opts: apitest.Options{}, args: []string{"--countries", "FR,DE,NO"}, cs: []string{"DE", "FR", "NO"}},
		{name: "quirks and holes", opts: apitest.Options{Quirks: true, HolesRate: 0.2}, args: []string{"--countries", "FR,DE,GB,IS"}, cs: []string{"DE", "FR", "GB", "IS"}},
		{name: "whole EEA small pages", opts: apitest.Options{Quirks: true, HolesRate: 0.05}, args: []string{"--countries", "EEA", "--max-count", "7", "--flush-pages", "3"}, cs: countries.EEA},
		{name: "term with non-ASCII", opts: apitest.Options{Quirks: true}, args: []string{"--countries", "EU", "--term", "café"}, cs: countries.EU27, term: "café"},
		{name: "flaky", opts: apitest.Options{Quirks: true, Faults: apitest.Faults{Err500: 0.08, Err429: 0.05, Truncated: 0.02, HTML504: 0.02, RetryAfter: time.Second}}, args: []string{"--countries", "FR,IT,PL"}, cs: []string{"FR", "IT", "PL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := apitest.Start(tc.opts)
			defer srv.Close()
			setCreds(t, srv)
			dir := t.TempDir()
			args := append([]string{"harvest", "--out", dir, "--from", "2024-01-01", "--to", "2024-01-31", "--retry-base", "1ms", "--rps", "0", "--progress", "none"}, tc.args...)
			code, _, stderr := runCLI(t, args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			want := expectedAds(srv.Universe(), tc.cs, "2024-01-01", "2024-01-31", tc.term)
			if len(want) == 0 {
				t.Fatal("the fake API returned nothing to compare")
			}
			diffKeys(t, want, harvestedAds(t, dir))

			// A second run on the finished folder spends nothing.
			before := srv.Stats().DataRequests
			if code, _, stderr := runCLI(t, "harvest", "--out", dir, "--progress", "none"); code != 0 {
				t.Fatalf("resume of a finished job: exit %d %s", code, stderr)
			}
			if after := srv.Stats().DataRequests; after != before {
				t.Fatalf("finished job re-run spent %d requests", after-before)
			}
		})
	}
}
