package apitest

import (
	"math"
	"reflect"
	"slices"
	"testing"
	"time"
)

func reportTotals(rep map[string]map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for c, days := range rep {
		for _, n := range days {
			out[c] += n
		}
	}
	return out
}

func TestVolumeModel(t *testing.T) {
	u := NewUniverseWith(UniverseOptions{Seed: 1, Volume: RealisticVolume(200_000)})
	from, to := day("20230701"), day("20240630")
	ids := u.AdIDs(AdQuery{From: from, To: to})
	var expected float64
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		for _, c := range AdCountries() {
			expected += u.ExpectedAds(c, d)
		}
	}
	// About 200,000 ads a year (surges make up for weekends), and the draw
	// follows the model closely.
	if expected < 180_000 || expected > 230_000 || math.Abs(float64(len(ids))-expected) > 0.02*expected {
		t.Fatalf("%d ads in a year, model says %.0f", len(ids), expected)
	}
	tot := reportTotals(u.Report("ALL", from, to, nil))
	if tot["DE"] < 300*tot["LI"] || tot["FR"] < 300*tot["LI"] || tot["LI"] == 0 {
		t.Fatalf("DE %d, FR %d, LI %d: not skewed like populations", tot["DE"], tot["FR"], tot["LI"])
	}
	t.Logf("%d ads; DE %d FR %d IT %d LI %d IS %d", len(ids), tot["DE"], tot["FR"], tot["IT"], tot["LI"], tot["IS"])

	// The two weeks before the European election run at several times the
	// rate of two weeks a month earlier; the election day itself is quiet.
	de := func(from, to string) int { return len(u.AdIDs(AdQuery{Country: "DE", From: day(from), To: day(to)})) }
	surge, before := de("20240526", "20240608"), de("20240428", "20240511")
	if surge < 3*before {
		t.Fatalf("surge %d vs %d before", surge, before)
	}
	if e, b := u.ExpectedAds("DE", day("20240608")), u.ExpectedAds("DE", day("20240609")); e != 4*b {
		t.Fatalf("expected %v on the eve, %v on the day", e, b)
	}
	// Non-EU countries do not surge.
	peak := func(c, from, to string) float64 {
		m := 0.0
		for d := day(from); !d.After(day(to)); d = d.AddDate(0, 0, 1) {
			m = max(m, u.ExpectedAds(c, d))
		}
		return m
	}
	if p, base := peak("NO", "20240526", "20240608"), peak("NO", "20240101", "20240301"); p > base {
		t.Fatalf("NO surges for the EU election: %v vs %v", p, base)
	}
	if p, base := peak("AT", "20240526", "20240608"), peak("AT", "20240101", "20240301"); p != 4*base {
		t.Fatalf("AT does not surge: %v vs %v", p, base)
	}

	// Quiet stretches: whole weeks of a large country without ads, and
	// Christmas at a tenth.
	quietDays := 0
	for _, c := range []string{"DE", "FR", "IT", "ES", "PL", "GB"} {
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			if u.ExpectedAds(c, d) == 0 {
				quietDays++
				if n := reportTotals(u.Report(c, d, d, nil))[c]; n != 0 {
					t.Fatalf("%s %s: %d ads on a quiet day", c, DateString(d), n)
				}
			}
		}
	}
	if quietDays < 7 {
		t.Fatalf("only %d quiet days in large countries", quietDays)
	}
	if x, n := u.ExpectedAds("FR", day("20231225")), u.ExpectedAds("FR", day("20231218")); x > n/5 && n > 0 {
		t.Fatalf("Christmas %v vs %v", x, n)
	}

	// Deterministic for a seed, different for another.
	if b := NewUniverseWith(UniverseOptions{Seed: 1, Volume: RealisticVolume(200_000)}).AdIDs(AdQuery{From: day("20240101"), To: day("20240107")}); !slices.Equal(b, u.AdIDs(AdQuery{From: day("20240101"), To: day("20240107")})) {
		t.Fatal("not deterministic")
	}
	if c := NewUniverseWith(UniverseOptions{Seed: 2, Volume: RealisticVolume(200_000)}).AdIDs(AdQuery{From: day("20240101"), To: day("20240107")}); slices.Equal(c, u.AdIDs(AdQuery{From: day("20240101"), To: day("20240107")})) {
		t.Fatal("seed has no effect")
	}
	// Every ad is found by its id, and targets its countries.
	for _, a := range u.Ads(AdQuery{Country: "LI", From: from, To: to}) {
		d, ok := u.AdDetail(a.ID)
		if !ok || !reflect.DeepEqual(a, d) || !slices.Contains(a.Countries, "LI") {
			t.Fatalf("ad %d", a.ID)
		}
	}
}

func TestVolumeWeightsAndContent(t *testing.T) {
	// Only two countries weighted: the others neither originate nor are
	// targeted.
	v := &VolumeModel{AdsPerYear: 36_500, Weights: map[string]float64{"FR": 3, "BE": 1}, ContentPerYear: 3650}
	u := NewUniverseWith(UniverseOptions{Seed: 4, Volume: v})
	from, to := day("20240101"), day("20240131")
	tot := reportTotals(u.Report("ALL", from, to, nil))
	// FR originates three times as many; half of the ads of each also
	// target the other.
	if len(tot) != 2 || tot["FR"] < tot["BE"]*13/10 {
		t.Fatalf("report totals %v", tot)
	}
	if e := u.ExpectedAds("FR", from); e != 75 {
		t.Fatalf("FR expected %v a day, want 75", e)
	}
	posts := u.CommercialContent("ALL", from, to, nil)
	for _, p := range posts {
		if p.Country != "FR" && p.Country != "BE" {
			t.Fatalf("post from %s", p.Country)
		}
	}
	if n := len(posts); n < 250 || n > 370 {
		t.Fatalf("%d posts in January, want about 310", n)
	}
}

// TestVolumeServer drives the model through the server: paging and
// ad/report agree with the universe at 200,000 ads a year.
func TestVolumeServer(t *testing.T) {
	s := start(t, Options{Seed: 3, Volume: RealisticVolume(200_000)})
	c := newClient(t, s)
	u := s.Universe()
	var got []int64
	for _, p := range c.pageAll(EndpointAdQuery, "ad.id", adBody("20240527", "20240602", "DE", map[string]any{"max_count": 50}), "ads", 1000) {
		for _, it := range p.items {
			got = append(got, wireInt(t, obj(obj(it)["ad"])["id"]))
		}
	}
	want := u.AdIDs(AdQuery{Country: "DE", From: day("20240527"), To: day("20240602")})
	if len(want) < 2000 || !slices.Equal(got, want) {
		t.Fatalf("got %d ads, want %d", len(got), len(want))
	}
	r := c.mustOK(EndpointAdReport, "count_time_series_by_country", map[string]any{"filters": map[string]any{"ad_published_date_range": map[string]any{"min": "20240527", "max": "20240602"}}})
	var de int64
	for _, e := range list(obj(r.data["count_time_series_by_country"])["DE"]) {
		de += wireInt(t, obj(e)["count"])
	}
	if int(de) != len(want) {
		t.Fatalf("report says %d DE ads, paging %d", de, len(want))
	}
}

// TestVolumeMillionIsCheap: a million ads a year stay cheap to generate,
// count and page.
func TestVolumeMillionIsCheap(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	t0 := time.Now()
	u := NewUniverseWith(UniverseOptions{Seed: 1, Volume: RealisticVolume(1_000_000)})
	ids := u.AdIDs(AdQuery{From: day("20230701"), To: day("20240630")})
	rep := u.Report("ALL", day("20230701"), day("20240630"), nil)
	if len(ids) < 950_000 || len(rep) != len(adCountries) {
		t.Fatalf("%d ads", len(ids))
	}
	if el := time.Since(t0); el > 10*time.Second {
		t.Fatalf("took %v", el)
	}
	t.Logf("%d ads in a year, generated and reported in %v", len(ids), time.Since(t0))
}

// BenchmarkVolumePage is one 50-ad page of ad/query over HTTP at a million
// ads a year (server and client decoding): about 1.3 ms, half of it JSON.
func BenchmarkVolumePage(b *testing.B) {
	s := Start(Options{Seed: 1, Volume: RealisticVolume(1_000_000), Now: func() time.Time { return fixedNow }})
	defer s.Close()
	t := &testing.T{}
	c := &client{t: t, s: s, hc: s.ts.Client(), tok: s.IssueToken()}
	body := adBody("20240101", "20240107", "DE", map[string]any{"max_count": 50})
	fields := allAdFields()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := c.call(EndpointAdQuery, fields, body)
		if r.status != 200 {
			b.Fatal(r.status, r.msg)
		}
		if more, _ := r.data["has_more"].(bool); more {
			body["search_id"] = wireText(r.data["search_id"])
		} else {
			delete(body, "search_id")
		}
	}
}

// BenchmarkVolumeYear generates and counts a year at a million ads.
func BenchmarkVolumeYear(b *testing.B) {
	for i := 0; i < b.N; i++ {
		u := NewUniverseWith(UniverseOptions{Seed: int64(i + 1), Volume: RealisticVolume(1_000_000)})
		_ = u.Report("ALL", day("20230701"), day("20240630"), nil)
	}
}
