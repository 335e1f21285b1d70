package apitest

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }
func at(s string) time.Time      { t, _ := time.Parse("20060102 15:04", s); return t }
func pageIDs(t *testing.T, c *client, body map[string]any) (ids []int64, items []map[string]any) {
	t.Helper()
	for _, p := range c.pageAll(EndpointAdQuery, allAdFields(), body, "ads", 1000) {
		for _, it := range p.items {
			ids = append(ids, wireInt(t, obj(obj(it)["ad"])["id"]))
			items = append(items, obj(it))
		}
	}
	return ids, items
}

func TestLifecycle(t *testing.T) {
	clk := &clock{now: at("20240610 03:00")}
	life := &Lifecycle{MaxPublishLatency: 6 * time.Hour, TakedownRate: 0.2}
	s := start(t, Options{Seed: 17, Now: clk.Now, Lifecycle: life})
	c := newClient(t, s)
	u := s.Universe()
	q := AdQuery{From: day("20240601"), To: day("20240609")}
	body := func() map[string]any { return adBody("20240601", "20240609", "ALL", map[string]any{"max_count": 50}) }

	// At 03:00 only part of the 9 June ads are published.
	t1 := clk.Now()
	want := u.AdsAsOf(q, t1)
	ids, items := pageIDs(t, c, body())
	if !slices.Equal(ids, u.AdIDsAsOf(q, t1)) {
		t.Fatalf("got %d ads, want %d", len(ids), len(want))
	}
	all := u.AdIDs(AdQuery{From: day("20240609"), To: day("20240609")})
	vis := u.AdIDsAsOf(AdQuery{From: day("20240609"), To: day("20240609")}, t1)
	if len(vis) == 0 || len(vis) >= len(all) {
		t.Fatalf("%d of %d ads of 9 June visible at 03:00", len(vis), len(all))
	}
	if got := u.AdIDsAsOf(AdQuery{From: day("20240609"), To: day("20240609")}, at("20240610 06:00")); !slices.Equal(got, all) {
		t.Fatal("not all visible after the latency")
	}
	for i, it := range items {
		if w := expectAd(want[i]); !reflect.DeepEqual(decodeAd(t, it), w) {
			t.Fatalf("ad %d:\n got %+v\nwant %+v", i, decodeAd(t, it), w)
		}
	}
	// Nothing is last shown after yesterday; nothing is inactive before its day.
	for _, a := range want {
		if a.LastShown.After(day("20240609")) || a.LastShown.Before(a.FirstShown) {
			t.Fatalf("last shown %v", a.LastShown)
		}
		if a.Status == "inactive" && a.TakedownDay.After(t1) {
			t.Fatal("inactive early")
		}
	}
	// ad/report counts what is visible; ad/detail knows only visible ads.
	r := c.mustOK(EndpointAdReport, "count_time_series_by_country", map[string]any{"filters": map[string]any{"ad_published_date_range": map[string]any{"min": "20240601", "max": "20240609"}}})
	var n int64
	for _, l := range obj(r.data["count_time_series_by_country"]) {
		for _, e := range list(l) {
			n += wireInt(t, obj(e)["count"])
		}
	}
	var wantN int64
	for _, days := range u.ReportAt("ALL", q.From, q.To, nil, t1) {
		for _, v := range days {
			wantN += v
		}
	}
	if n != wantN || wantN == 0 {
		t.Fatalf("report %d, want %d", n, wantN)
	}
	var hidden int64
	for _, id := range all {
		if !slices.Contains(vis, id) {
			hidden = id
			break
		}
	}
	if r := c.call(EndpointAdDetail, "ad.id", map[string]any{"ad_id": hidden}); r.status != 400 || !strings.Contains(r.msg, "does not exist") {
		t.Fatalf("unpublished ad: %d %q", r.status, r.msg)
	}
	if _, ok := u.AdAsOf(hidden, t1); ok {
		t.Fatal("AdAsOf finds an unpublished ad")
	}

	// Ten days later: every status change between the two days is a
	// takedown the universe lists, and only those.
	before := u.States(q, t1)
	clk.Set(at("20240620 12:00"))
	t2 := clk.Now()
	after := u.States(q, t2)
	changes := u.StatusChanges(q, day("20240611"), day("20240620"))
	if len(changes) == 0 {
		t.Fatal("no takedowns in ten days")
	}
	changed := map[int64]bool{}
	grew := 0
	for i := range before {
		b, a := before[i], after[i]
		if b.Status != a.Status {
			changed[a.ID] = true
			if b.Status != "active" || a.Status != "inactive" || a.StatusStatement != "Removed from TikTok due to a violation of TikTok's terms" {
				t.Fatalf("change %+v -> %+v", b, a)
			}
		}
		if a.LastShown.After(b.LastShown) {
			grew++
			if b.Status == "inactive" {
				t.Fatal("last_shown_date moves after a takedown")
			}
		}
		if a.LastShown.Before(b.LastShown) {
			t.Fatal("last_shown_date went back")
		}
	}
	for _, ch := range changes {
		if !changed[ch.ID] {
			t.Fatalf("change %+v not seen", ch)
		}
		if ad, _ := u.AdAsOf(ch.ID, ch.Day.Add(-time.Minute)); ad.Status != "active" {
			t.Fatal("inactive the day before")
		}
		if ad, _ := u.AdAsOf(ch.ID, ch.Day); ad.Status != "inactive" {
			t.Fatal("active on its takedown day")
		}
	}
	if len(changed) != len(changes) || grew == 0 {
		t.Fatalf("%d changed, %d listed, %d grew", len(changed), len(changes), grew)
	}
	// The server serves the new states.
	ids2, items2 := pageIDs(t, c, body())
	want2 := u.AdsAsOf(q, t2)
	if len(ids2) != len(want2) || len(want2) != len(all)+len(ids)-len(vis) {
		t.Fatalf("%d ads on the 20th, want %d", len(ids2), len(want2))
	}
	for i, it := range items2 {
		if w := expectAd(want2[i]); !reflect.DeepEqual(decodeAd(t, it), w) {
			t.Fatalf("ad %d on the 20th:\n got %+v\nwant %+v", i, decodeAd(t, it), w)
		}
	}
	// The final state (Ads) is the state far in the future.
	final := u.Ads(q)
	for i, a := range u.AdsAsOf(q, at("20300101 00:00")) {
		if !reflect.DeepEqual(a, final[i]) {
			t.Fatalf("final state differs for %d", a.ID)
		}
	}
}

// TestLifecycleSnapshot: a search sees the universe as it was when it began,
// even when publications land while it pages.
func TestLifecycleSnapshot(t *testing.T) {
	clk := &clock{now: at("20240610 01:00")}
	s := start(t, Options{Seed: 2, Now: clk.Now, Lifecycle: &Lifecycle{MaxPublishLatency: 8 * time.Hour}})
	c := newClient(t, s)
	u := s.Universe()
	q := AdQuery{From: day("20240609"), To: day("20240609")}
	body := adBody("20240609", "20240609", "ALL", map[string]any{"max_count": 10})
	var ids []int64
	for i := 0; ; i++ {
		r := c.mustOK(EndpointAdQuery, "ad.id", body)
		for _, it := range list(r.data["ads"]) {
			ids = append(ids, wireInt(t, obj(obj(it)["ad"])["id"]))
		}
		if !wireBool(t, r.data["has_more"]) {
			break
		}
		body["search_id"] = wireText(r.data["search_id"])
		clk.Set(clk.Now().Add(time.Hour)) // more ads get published
	}
	if want := u.AdIDsAsOf(q, at("20240610 01:00")); !slices.Equal(ids, want) || len(want) == len(u.AdIDs(q)) {
		t.Fatalf("got %d, want the %d visible at 01:00 (of %d)", len(ids), len(want), len(u.AdIDs(q)))
	}
	// A new search sees the later state.
	delete(body, "search_id")
	body["max_count"] = 50
	var again []int64
	for _, p := range c.pageAll(EndpointAdQuery, "ad.id", body, "ads", 100) {
		for _, it := range p.items {
			again = append(again, wireInt(t, obj(obj(it)["ad"])["id"]))
		}
	}
	if want := u.AdIDsAsOf(q, clk.Now()); !slices.Equal(again, want) || len(again) <= len(ids) {
		t.Fatalf("new search: %d, want %d", len(again), len(want))
	}
	// Content appears the same way.
	cs := u.CommercialContentAsOf("ALL", day("20240609"), day("20240609"), nil, at("20240610 01:00"))
	if full := u.CommercialContent("ALL", day("20240609"), day("20240609"), nil); len(cs) >= len(full) || len(full) == 0 {
		t.Fatalf("%d of %d posts visible at 01:00", len(cs), len(full))
	}
}

func TestLifecycleDeterministic(t *testing.T) {
	life := &Lifecycle{MaxPublishLatency: time.Hour, TakedownRate: 0.3, TakedownWithin: 10}
	a := NewUniverseWith(UniverseOptions{Seed: 4, Lifecycle: life})
	b := NewUniverseWith(UniverseOptions{Seed: 4, Lifecycle: life})
	q := AdQuery{From: day("20240101"), To: day("20240131")}
	if !reflect.DeepEqual(a.States(q, at("20240115 10:00")), b.States(q, at("20240115 10:00"))) {
		t.Fatal("not deterministic")
	}
	changes := a.StatusChanges(q, day("20240101"), day("20300101"))
	ads := a.Ads(q)
	if r := float64(len(changes)) / float64(len(ads)); r < 0.25 || r > 0.35 {
		t.Fatalf("takedown rate %.2f", r)
	}
	for _, ch := range changes {
		ad, _ := a.AdDetail(ch.ID)
		if d := ch.Day.Sub(ad.FirstShown) / (24 * time.Hour); d < 1 || d > 10 || !ad.TakedownDay.Equal(ch.Day) {
			t.Fatalf("takedown %d days after publication", d)
		}
	}
	if !slices.IsSortedFunc(changes, func(x, y StatusChange) int { return x.Day.Compare(y.Day) }) {
		t.Fatal("not by day")
	}
}
