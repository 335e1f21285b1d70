package apitest

import (
	"slices"
	"strings"
	"testing"
)

func TestMinimum(t *testing.T) {
	u := NewUniverse(5, 3)
	from, to := day("20240101"), day("20240131")
	adv := u.Ads(AdQuery{From: from, To: to})[0].Advertiser.BusinessID
	spec := MinimumSpec{
		Datasets: []string{DatasetAds, DatasetAdDetails, DatasetAdReports, DatasetContent, DatasetAdvertisers},
		Queries: []MinimumQuery{
			{Countries: []string{"FR", "LI", "GB"}, From: from, To: to, Terms: []string{"coffee", "vote"}},
			{Countries: []string{"ALL"}, From: from, To: day("20240107"), AdvertiserIDs: []int64{adv}},
			// A duplicate of the first query costs nothing more.
			{Countries: []string{"FR", "LI", "GB"}, From: from, To: to, Terms: []string{"coffee", "vote"}},
		},
		MaxCount: 20,
	}
	m := u.Minimum(spec)

	pages := func(n int) int { return max(1, (n+19)/20) }
	wantAds, ids := 0, map[int64]bool{}
	for _, c := range []string{"FR", "LI", "GB"} {
		for _, term := range []string{"coffee", "vote"} {
			got := u.AdIDs(AdQuery{Country: c, From: from, To: to, Term: term})
			wantAds += pages(len(got))
			for _, id := range got {
				ids[id] = true
			}
		}
	}
	got := u.AdIDs(AdQuery{From: from, To: day("20240107"), AdvertiserIDs: []int64{adv}})
	wantAds += pages(len(got))
	for _, id := range got {
		ids[id] = true
	}
	var wantContent, posts int
	for _, c := range []string{"FR", "LI"} { // GB has no commercial content
		n := len(u.CommercialContent(c, from, to, nil))
		wantContent += pages(n)
		posts += n
	}
	n := len(u.CommercialContent("ALL", from, day("20240107"), nil))
	wantContent += pages(n)
	want := map[string]int{
		DatasetAds:         wantAds,
		DatasetAdDetails:   len(ids),
		DatasetAdReports:   3 + 1, // FR, LI, GB; ALL
		DatasetContent:     wantContent,
		DatasetAdvertisers: 2,
	}
	for d, n := range want {
		if m.Requests[d] != n {
			t.Errorf("%s: %d requests, want %d", d, m.Requests[d], n)
		}
	}
	if m.Total != wantAds+len(ids)+4+wantContent+2 || m.DistinctAds != len(ids) || len(m.AdIDs) != len(ids) || !slices.IsSorted(m.AdIDs) {
		t.Fatalf("total %d, distinct %d", m.Total, m.DistinctAds)
	}
	if len(m.Reports) != 3 || !equalReports(m.Reports[1], u.Report("ALL", from, day("20240107"), []int64{adv})) {
		t.Fatal("reports")
	}
	for c := range m.Reports[0] {
		if c != "FR" && c != "LI" && c != "GB" {
			t.Fatalf("report for %s", c)
		}
	}
	if !equalReports(m.Reports[0], filterReport(u.Report("ALL", from, to, nil), "FR", "LI", "GB")) {
		t.Fatal("report of query 1")
	}

	// Every country listed is one report for ALL; a range limit splits it.
	all := u.Minimum(MinimumSpec{Datasets: []string{DatasetAdReports}, Queries: []MinimumQuery{{Countries: AdCountries(), From: from, To: to}}, ReportMaxDays: 7})
	if all.Requests[DatasetAdReports] != 5 || all.Total != 5 || len(all.Requests) != 1 {
		t.Fatalf("reports for every country over 31 days by 7: %v", all.Requests)
	}
	// An empty slice still costs a request.
	empty := u.Minimum(MinimumSpec{Datasets: []string{DatasetAds}, Queries: []MinimumQuery{{Countries: []string{"LI"}, From: day("20221001"), To: day("20221001"), Terms: []string{"nothing"}}}})
	if empty.Total != 1 || empty.Slices[0].Items != 0 {
		t.Fatalf("empty: %+v", empty)
	}
}

func equalReports(a, b map[string]map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for c, days := range a {
		if len(days) != len(b[c]) {
			return false
		}
		for d, n := range days {
			if b[c][d] != n {
				return false
			}
		}
	}
	return true
}

func filterReport(r map[string]map[string]int64, keep ...string) map[string]map[string]int64 {
	for c := range r {
		if !slices.Contains(keep, c) {
			delete(r, c)
		}
	}
	return r
}

// TestMinimumIsReachable pages the fake as an ideal harvester would, and
// spends exactly the minimum.
func TestMinimumIsReachable(t *testing.T) {
	s := start(t, Options{Seed: 8})
	c := newClient(t, s)
	u := s.Universe()
	spec := MinimumSpec{
		Datasets: []string{DatasetAds, DatasetAdDetails, DatasetAdReports, DatasetContent, DatasetAdvertisers},
		Queries: []MinimumQuery{
			{Countries: []string{"DE", "IS"}, From: day("20240301"), To: day("20240310"), Terms: []string{"sport"}},
			{Countries: []string{"ALL"}, From: day("20240305"), To: day("20240307")},
		},
		MaxCount: 50,
	}
	m := u.Minimum(spec)
	found := map[int64]bool{}
	for _, sl := range m.Slices {
		rng := map[string]any{"min": DateString(sl.From), "max": DateString(sl.To)}
		switch sl.Dataset {
		case DatasetAds:
			extra := map[string]any{"max_count": 50}
			if sl.Term != "" {
				extra["search_term"] = sl.Term
			}
			for _, p := range c.pageAll(EndpointAdQuery, "ad.id", adBody(DateString(sl.From), DateString(sl.To), sl.Country, extra), "ads", 1000) {
				for _, it := range p.items {
					found[wireInt(t, obj(obj(it)["ad"])["id"])] = true
				}
			}
		case DatasetAdReports:
			c.mustOK(EndpointAdReport, "count_time_series_by_country", map[string]any{"filters": map[string]any{"ad_published_date_range": rng, "country_code": sl.Country}})
		case DatasetContent:
			c.pageAll(EndpointContent, "id", map[string]any{"filters": map[string]any{"content_published_date_range": rng, "creator_country_code": sl.Country}, "max_count": 50}, "commercial_contents", 1000)
		case DatasetAdvertisers:
			c.mustOK(EndpointAdvertiser, "business_id", map[string]any{"search_term": sl.Term})
		}
	}
	for id := range found {
		c.mustOK(EndpointAdDetail, "ad.id", map[string]any{"ad_id": id})
	}
	st := s.Stats()
	for ep, d := range map[string]string{EndpointAdQuery: DatasetAds, EndpointAdDetail: DatasetAdDetails, EndpointAdReport: DatasetAdReports, EndpointContent: DatasetContent, EndpointAdvertiser: DatasetAdvertisers} {
		if st.ByEndpoint[ep] != m.Requests[d] {
			t.Errorf("%s: %d requests, minimum %d", ep, st.ByEndpoint[ep], m.Requests[d])
		}
	}
	if st.DataRequests != m.Total || len(found) != m.DistinctAds || m.Requests[DatasetAds] < 6 {
		t.Fatalf("%d data requests, minimum %d; %d ads, %d distinct", st.DataRequests, m.Total, len(found), m.DistinctAds)
	}
	if !strings.Contains(m.Slices[0].Term, "sport") {
		t.Fatal(m.Slices[0])
	}
}
