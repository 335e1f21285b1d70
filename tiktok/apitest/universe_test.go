package apitest

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestUniverseDeterministic(t *testing.T) {
	q := AdQuery{From: day("20231201"), To: day("20231231")}
	a := NewUniverse(7, 3).Ads(q)
	b := NewUniverse(7, 3).Ads(q)
	if len(a) == 0 || !reflect.DeepEqual(a, b) {
		t.Fatalf("not deterministic (%d ads)", len(a))
	}
	if c := NewUniverse(8, 3).AdIDs(q); slices.Equal(c, NewUniverse(7, 3).AdIDs(q)) {
		t.Fatal("seed has no effect")
	}
	// Density scales the volume.
	if n1, n9 := len(NewUniverse(7, 1).AdIDs(q)), len(NewUniverse(7, 9).AdIDs(q)); n9 < 4*n1 {
		t.Fatalf("density: %d vs %d", n1, n9)
	}
}

func TestUniverseAds(t *testing.T) {
	u := NewUniverse(1, 3)
	ads := u.Ads(AdQuery{From: day("20230101"), To: day("20230331")})
	var big, small, inactive, noReach, noVideos, noImages, noPaid, multi, rejected int
	ids := map[int64]bool{}
	prev := time.Time{}
	for i, a := range ads {
		if ids[a.ID] {
			t.Fatalf("duplicate id %d", a.ID)
		}
		ids[a.ID] = true
		if i > 0 && a.FirstShown.After(prev) {
			t.Fatal("not newest first")
		}
		prev = a.FirstShown
		switch n := len(itoa(a.ID)); {
		case a.ID > 1<<53 && n == 19:
			big++
		case n == 16:
			small++
		default:
			t.Fatalf("odd id %d", a.ID)
		}
		if len(a.Countries) < 1 || len(a.Countries) > 4 || !slices.IsSorted(a.Countries) {
			t.Fatalf("countries %v", a.Countries)
		}
		if len(a.Countries) > 1 {
			multi++
		}
		if a.LastShown.Before(a.FirstShown) {
			t.Fatal("last before first")
		}
		if a.Status == "inactive" {
			inactive++
			if a.StatusStatement != "Removed from TikTok due to a violation of TikTok's terms" {
				t.Fatal(a.StatusStatement)
			}
		}
		if a.Reach == nil {
			noReach++
		} else if _, _, ok := parseReach(a.Reach.UniqueUsersSeen); !ok {
			t.Fatalf("reach %q", a.Reach.UniqueUsersSeen)
		}
		if len(a.Videos) == 0 {
			noVideos++
		}
		if len(a.ImageURLs) == 0 {
			noImages++
		}
		if a.Advertiser.PaidForBy == "" {
			noPaid++
		}
		if a.Rejection != nil {
			rejected++
		}
		d, ok := u.AdDetail(a.ID)
		if !ok || !reflect.DeepEqual(d, a) {
			t.Fatalf("AdDetail(%d) disagrees", a.ID)
		}
		if len(d.Targeting.Age) != 6 || len(d.Targeting.Gender) != 3 {
			t.Fatalf("targeting %+v", d.Targeting)
		}
	}
	for name, n := range map[string]int{"big": big, "small": small, "inactive": inactive, "noReach": noReach, "noVideos": noVideos,
		"noImages": noImages, "noPaid": noPaid, "multi": multi, "rejected": rejected} {
		if n == 0 {
			t.Errorf("no %s ads among %d", name, len(ads))
		}
	}
	// Ids not in the universe are unknown.
	for _, id := range []int64{0, 1, 1923845247192304, 7057157514558702338, ads[0].ID + 1, -5} {
		if _, ok := u.AdDetail(id); ok {
			t.Errorf("AdDetail(%d) found", id)
		}
	}
	// Per-country queries are the ads that target the country.
	for _, c := range []string{"FR", "GB", "LI"} {
		var want []int64
		for _, a := range ads {
			if slices.Contains(a.Countries, c) {
				want = append(want, a.ID)
			}
		}
		if got := u.AdIDs(AdQuery{Country: c, From: day("20230101"), To: day("20230331")}); !slices.Equal(got, want) {
			t.Errorf("%s: %d vs %d", c, len(got), len(want))
		}
	}
}

func itoa(n int64) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestUniverseNastyAdvertisers(t *testing.T) {
	u := NewUniverse(1, 3)
	all := u.AllAdvertisers()
	if len(all) != 200 {
		t.Fatal(len(all))
	}
	checks := map[string]func(a Advertiser) bool{
		"19-digit id":  func(a Advertiser) bool { return a.BusinessID > 1<<53 && len(itoa(a.BusinessID)) == 19 },
		"numeric name": func(a Advertiser) bool { return isNumeric(a.BusinessName) },
		"NUL":          func(a Advertiser) bool { return strings.ContainsRune(a.BusinessName, 0) },
		"newline":      func(a Advertiser) bool { return strings.Contains(a.BusinessName, "\n") },
		"comma":        func(a Advertiser) bool { return strings.Contains(a.BusinessName, ",") },
		"quote":        func(a Advertiser) bool { return strings.Contains(a.BusinessName, `"`) },
		"emoji":        func(a Advertiser) bool { return strings.ContainsAny(a.BusinessName, "🍺🚀") },
		"CJK":          func(a Advertiser) bool { return strings.ContainsAny(a.BusinessName, "東京株式会社北欧") },
		"accent":       func(a Advertiser) bool { return strings.ContainsAny(a.BusinessName, "éßŁ") },
		"no paid_for":  func(a Advertiser) bool { return a.PaidForBy == "" },
		"no account":   func(a Advertiser) bool { return a.TikTok == nil },
	}
	for name, f := range checks {
		if !slices.ContainsFunc(all, f) {
			t.Errorf("no advertiser with %s", name)
		}
	}
	for _, a := range all {
		if !utf8.ValidString(a.BusinessName) {
			t.Fatalf("invalid UTF-8 %q", a.BusinessName)
		}
		if b, ok := u.AdvertiserByID(a.BusinessID); !ok || b.BusinessName != a.BusinessName {
			t.Fatal("AdvertiserByID")
		}
	}
	if got := u.Advertisers("CAFÉ", 50); len(got) == 0 || !strings.Contains(strings.ToLower(got[0].BusinessName), "café") {
		t.Fatalf("Advertisers(CAFÉ) = %v", got)
	}
	if got := u.Advertisers("", 0); len(got) != 10 {
		t.Fatal(len(got))
	}
}

func TestUniverseContent(t *testing.T) {
	u := NewUniverse(1, 3)
	cs := u.CommercialContent("ALL", day("20240101"), day("20240131"), nil)
	ids := map[string]bool{}
	var noBrands, noVideos, twoVideos int
	for _, c := range cs {
		if ids[c.ID] || !strings.HasPrefix(c.ID, "v09044g40000") || len(c.ID) != 32 {
			t.Fatalf("id %q", c.ID)
		}
		ids[c.ID] = true
		if c.Country == "GB" || !slices.Contains(u.CreatorsIn(c.Country), c.Creator) {
			t.Fatalf("creator %s in %s", c.Creator, c.Country)
		}
		if got := time.Unix(c.CreateTimestamp, 0).UTC(); DateString(got) != DateString(c.CreateDate) {
			t.Fatal("timestamp")
		}
		switch len(c.Videos) {
		case 0:
			noVideos++
		case 2:
			twoVideos++
		}
		if len(c.BrandNames) == 0 {
			noBrands++
		}
	}
	if len(cs) == 0 || noBrands == 0 || noVideos == 0 || twoVideos == 0 {
		t.Fatalf("%d contents, %d without brands, %d without videos, %d with two", len(cs), noBrands, noVideos, twoVideos)
	}
	who := []string{cs[0].Creator, strings.ToUpper(cs[1].Creator)}
	for _, c := range u.CommercialContent("", day("20240101"), day("20240131"), who) {
		if !strings.EqualFold(c.Creator, who[0]) && !strings.EqualFold(c.Creator, who[1]) {
			t.Fatal("username filter")
		}
	}
	if len(u.CommercialContent("GB", day("20240101"), day("20240131"), nil)) != 0 {
		t.Fatal("GB content")
	}
}

func TestUniverseWideRangeIsCheap(t *testing.T) {
	u := NewUniverse(1, 3)
	t0 := time.Now()
	ids := u.AdIDs(AdQuery{From: Epoch, To: day("20301231")})
	rep := u.Report("ALL", Epoch, day("20301231"), nil)
	if len(ids) < 100_000 || len(rep) != len(adCountries) {
		t.Fatalf("%d ads, %d countries", len(ids), len(rep))
	}
	if el := time.Since(t0); el > 5*time.Second {
		t.Fatalf("took %v", el)
	}
	t.Logf("%d ads from 2022-10-01 to 2030 in %v", len(ids), time.Since(t0))
}
