package apitest

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestReportMaxDays(t *testing.T) {
	s := start(t, Options{ReportMaxDays: 7})
	c := newClient(t, s)
	rb := func(min, max string) map[string]any {
		return map[string]any{"filters": map[string]any{"ad_published_date_range": map[string]any{"min": min, "max": max}}}
	}
	if r := c.call(EndpointAdReport, "count_time_series_by_country", rb("20240101", "20240108")); r.status != 400 || r.code != "invalid_params" ||
		r.msg != "Invalid filters: ad_published_date_range spans 8 days; the limit is 7 days" {
		t.Fatalf("%d %q %q", r.status, r.code, r.msg)
	}
	c.mustOK(EndpointAdReport, "count_time_series_by_country", rb("20240101", "20240107"))
	// ad/query is not limited.
	c.mustOK(EndpointAdQuery, "ad.id", adBody("20240101", "20240131", "FR", nil))
}

func TestReportFailures(t *testing.T) {
	rb := func(c string, min, max string) map[string]any {
		return map[string]any{"filters": map[string]any{"ad_published_date_range": map[string]any{"min": min, "max": max}, "country_code": c}}
	}
	t.Run("all 500", func(t *testing.T) {
		s := start(t, Options{ReportFailures: ReportFailures{Err500: 1}})
		c := newClient(t, s)
		for i := 0; i < 3; i++ {
			if r := c.call(EndpointAdReport, "count_time_series_by_country", rb("FR", "20240101", "20240107")); r.status != 500 || r.code != "internal_error" {
				t.Fatalf("%d %q", r.status, r.code)
			}
		}
		if rq := s.Requests(); rq[len(rq)-1].Fault != "report_500" || s.Stats().ByCode["internal_error"] != 3 {
			t.Fatalf("record %+v", rq[len(rq)-1])
		}
		// Other endpoints are fine.
		c.mustOK(EndpointAdQuery, "ad.id", adBody("20240101", "20240107", "FR", nil))
	})
	t.Run("all empty", func(t *testing.T) {
		s := start(t, Options{Seed: 3, ReportFailures: ReportFailures{Empty: 1}})
		c := newClient(t, s)
		r := c.mustOK(EndpointAdReport, "count_time_series_by_country", rb("ALL", "20240101", "20240107"))
		if m := obj(r.data["count_time_series_by_country"]); m == nil || len(m) != 0 {
			t.Fatalf("series %v", r.data)
		}
		if len(s.Universe().Report("ALL", day("20240101"), day("20240107"), nil)) == 0 {
			t.Fatal("the universe has no ads either")
		}
	})
	t.Run("some, persistently", func(t *testing.T) {
		s := start(t, Options{Seed: 3, ReportFailures: ReportFailures{Empty: 0.3, Err500: 0.3}})
		c := newClient(t, s)
		seen := map[string]int{}
		for _, cc := range AdCountries() {
			want := s.ReportOutcome(cc, day("20240101"), day("20240107"), nil)
			seen[want]++
			for i := 0; i < 2; i++ {
				r := c.call(EndpointAdReport, "count_time_series_by_country", rb(strings.ToLower(cc), "20240101", "20240107"))
				got := ReportOK
				switch {
				case r.status == 500:
					got = Report500
				case len(obj(r.data["count_time_series_by_country"])) == 0:
					got = ReportEmpty
				}
				if got != want {
					t.Fatalf("%s: %s, want %s", cc, got, want)
				}
			}
		}
		if seen[ReportOK] == 0 || seen[ReportEmpty] == 0 || seen[Report500] == 0 {
			t.Fatalf("outcomes %v", seen)
		}
	})
}

func TestSearchIDsExpireAtReset(t *testing.T) {
	for _, expire := range []bool{false, true} {
		clk := &clock{now: at("20240615 23:59")}
		s := start(t, Options{Now: clk.Now, SearchIDsExpireAtReset: expire})
		c := newClient(t, s)
		body := adBody("20240101", "20240131", "FR", nil)
		r := c.mustOK(EndpointAdQuery, "ad.id", body)
		body["search_id"] = wireText(r.data["search_id"])
		r = c.mustOK(EndpointAdQuery, "ad.id", body) // same day: fine
		body["search_id"] = wireText(r.data["search_id"])
		clk.Set(at("20240616 00:01"))
		r = c.call(EndpointAdQuery, "ad.id", body)
		if !expire {
			if r.status != 200 {
				t.Fatalf("without the option: %d %q", r.status, r.msg)
			}
			continue
		}
		if r.status != 400 || r.code != "invalid_params" || r.msg != "Search Id "+body["search_id"].(string)+" is invalid or expired" {
			t.Fatalf("after the reset: %d %q", r.status, r.msg)
		}
		// A new search works, and so does content paging's.
		delete(body, "search_id")
		c.mustOK(EndpointAdQuery, "ad.id", body)
		cb := map[string]any{"filters": map[string]any{"content_published_date_range": map[string]any{"min": "20240101", "max": "20240131"}}}
		r = c.mustOK(EndpointContent, "id", cb)
		cb["search_id"] = wireText(r.data["search_id"])
		clk.Set(at("20240617 00:00"))
		if r := c.call(EndpointContent, "id", cb); r.status != 400 || !strings.Contains(r.msg, "is invalid or expired") {
			t.Fatalf("content after the reset: %d %q", r.status, r.msg)
		}
	}
}

func TestShortPaging(t *testing.T) {
	sp := &ShortPaging{Above: 60}
	s := start(t, Options{Seed: 14, ShortPaging: sp, HolesRate: 0.1})
	c := newClient(t, s)
	u := s.Universe()
	// A fortnight of FR (about 75 ads) is cut short; each week heals it.
	q := AdQuery{Country: "FR", From: day("20240101"), To: day("20240114")}
	p := u.Paging(q, time.Time{})
	if !p.Cut || p.Total <= 60 || p.Served >= p.Total || float64(p.Served) < 0.4*float64(p.Total) {
		t.Fatalf("fortnight %+v", p)
	}
	ids, _ := pageIDs(t, c, adBody("20240101", "20240114", "FR", map[string]any{"max_count": 20}))
	if !slices.Equal(ids, u.ServedAdIDs(q, time.Time{})) || len(ids) != p.Served {
		t.Fatalf("served %d, want %d", len(ids), p.Served)
	}
	// The same query again is cut at the same place.
	again, _ := pageIDs(t, c, adBody("20240101", "20240114", "fr", map[string]any{"max_count": 50}))
	if !slices.Equal(again, ids) {
		t.Fatal("cut moved")
	}
	var healed []int64
	for _, half := range [][2]string{{"20240108", "20240114"}, {"20240101", "20240107"}} {
		hq := AdQuery{Country: "FR", From: day(half[0]), To: day(half[1])}
		if hp := u.Paging(hq, time.Time{}); hp.Cut {
			t.Fatalf("half %v cut: %+v", half, hp)
		}
		got, _ := pageIDs(t, c, adBody(half[0], half[1], "FR", map[string]any{"max_count": 50}))
		healed = append(healed, got...)
	}
	if !slices.Equal(healed, u.AdIDs(q)) {
		t.Fatalf("halves give %d, want %d", len(healed), p.Total)
	}
	// A single day above the limit cannot be healed.
	one := AdQuery{From: day("20240105"), To: day("20240105")}
	if op := u.Paging(one, time.Time{}); !op.Cut || op.Total <= 60 {
		t.Fatalf("one day of ALL: %+v", op)
	}
	ids, _ = pageIDs(t, c, adBody("20240105", "20240105", "ALL", map[string]any{"max_count": 50}))
	if !slices.Equal(ids, u.ServedAdIDs(one, time.Time{})) {
		t.Fatal("single day")
	}
	// Small results and the minimum are unaffected.
	if sm := u.Paging(AdQuery{Country: "LI", From: day("20240101"), To: day("20240107")}, time.Time{}); sm.Cut || sm.Total == 0 {
		t.Fatalf("LI %+v", sm)
	}
	if m := u.Minimum(MinimumSpec{Datasets: []string{DatasetAds}, Queries: []MinimumQuery{{Countries: []string{"FR"}, From: q.From, To: q.To}}}); m.Slices[0].Items != p.Total {
		t.Fatal("minimum counts the cut set")
	}
}

// TestEverythingTogether runs every option at once: the answers still agree
// with the universe's ground truth.
func TestEverythingTogether(t *testing.T) {
	clk := &clock{now: at("20240612 02:00")}
	o := Realistic(200_000)
	o.Seed, o.Now = 9, clk.Now
	o.Lifecycle = &Lifecycle{MaxPublishLatency: 4 * time.Hour, TakedownRate: 0.1}
	o.CDN = DefaultCDN()
	o.ShortPaging = &ShortPaging{Above: 300}
	o.RateLimit = RateLimit{PerSecond: 1000, Burst: 100}
	o.HolesRate = 0.05
	o.ReportMaxDays = 31
	o.SearchIDsExpireAtReset = true
	s := start(t, o)
	c := newClient(t, s)
	u := s.Universe()
	for _, cc := range []string{"DE", "LI", "ALL"} {
		q := AdQuery{Country: cc, From: day("20240605"), To: day("20240611")}
		ids, items := pageIDs(t, c, adBody("20240605", "20240611", cc, map[string]any{"max_count": 50}))
		want := u.ServedAdIDs(q, clk.Now())
		if !slices.Equal(ids, want) {
			t.Fatalf("%s: %d ads, want %d (%+v)", cc, len(ids), len(want), u.Paging(q, clk.Now()))
		}
		full := u.AdsAsOf(q, clk.Now())
		for i, it := range items {
			ad := obj(it["ad"])
			if wireText(ad["status"]) != full[i].Status || wireText(ad["last_shown_date"]) != DateString(full[i].LastShown) {
				t.Fatalf("%s ad %d: %v, want %s %s", cc, i, ad, full[i].Status, DateString(full[i].LastShown))
			}
			for _, v := range list(firstKey(ad, "videos")) {
				if !strings.HasPrefix(wireText(obj(v)["url"]), s.CDNURL()) {
					t.Fatalf("video not on the CDN: %v", v)
				}
			}
		}
		if cc == "ALL" && !u.Paging(q, clk.Now()).Cut {
			t.Fatal("ALL for a week of election surge is not cut")
		}
	}
	m := u.Minimum(MinimumSpec{Datasets: []string{DatasetAds, DatasetAdReports}, Queries: []MinimumQuery{{Countries: []string{"DE"}, From: day("20240601"), To: day("20240611")}}, Now: clk.Now()})
	if m.Requests[DatasetAds] != (m.Slices[0].Items+49)/50 || m.Requests[DatasetAdReports] != 1 || m.Slices[0].Items != len(u.AdIDsAsOf(AdQuery{Country: "DE", From: day("20240601"), To: day("20240611")}, clk.Now())) {
		t.Fatalf("minimum %+v", m.Requests)
	}
	if st := s.Stats(); st.Throttled != 0 || st.DataRequests == 0 {
		t.Fatalf("stats %+v", st)
	}
}
