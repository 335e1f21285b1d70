package api

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func envData(t *testing.T, name string) json.RawMessage {
	t.Helper()
	env, err := DecodeEnvelope(load(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return env.Data
}

// wantRejects compares rejects with index → substring of Err.
func wantRejects(t *testing.T, got []Reject, want map[int]string) {
	t.Helper()
	seen := map[int]bool{}
	for _, r := range got {
		w, ok := want[r.Index]
		switch {
		case !ok:
			t.Errorf("unexpected reject %d: %s (%s)", r.Index, r.Err, r.Item)
		case !strings.Contains(r.Err, w):
			t.Errorf("reject %d: err %q, want it to contain %q", r.Index, r.Err, w)
		}
		if !json.Valid(r.Item) || len(r.Item) > MaxRejectItem {
			t.Errorf("reject %d: item is not bounded valid JSON: %s", r.Index, r.Item)
		}
		seen[r.Index] = true
	}
	for i, w := range want {
		if !seen[i] {
			t.Errorf("item %d (%s) was not rejected", i, w)
		}
	}
}

// TestDecodeAdQueryHostile: every bad form of point 11 in one page, between
// good ads. Before the fix the page decoded with json.Unmarshal into
// AdQueryData, which refuses the whole page (asserted below): the good ads
// were lost and the slice failed for good.
func TestDecodeAdQueryHostile(t *testing.T) {
	data := envData(t, "ad_query_hostile.json")
	var old AdQueryData
	if err := json.Unmarshal(data, &old); err == nil {
		t.Fatal("the whole-page decoder accepts the hostile page; the test data lost its point")
	}
	p, err := DecodeAdQuery(data)
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasMore.Set || !p.HasMore.V || p.SearchID != "eyJsYXN0X3NvcnQiOls3NDA3OCwiMzUwNDIwOTgzOD" {
		t.Fatalf("page fields %+v", p.Page)
	}
	var ids []int64
	for _, a := range p.Ads {
		ids = append(ids, a.Ad.ID.V)
	}
	if want := []int64{7301234567890123456, 7301234567890123457, 7301234567890000011, 7301234567890000015, 7301234567890000020}; !slices.Equal(ids, want) {
		t.Fatalf("good ads %v, want %v", ids, want)
	}
	if p.Ads[0].Advertiser.BusinessID.V != 7057157514558702338 || p.Ads[1].Advertiser.BusinessID.V != 7057157514558702339 {
		t.Fatalf("19-digit business ids not exact: %v %v", p.Ads[0].Advertiser.BusinessID, p.Ads[1].Advertiser.BusinessID)
	}
	// Unreadable reach keeps its text and gets NULL bounds (point 12): the ad stays.
	for i, text := range map[int]string{2: "NaN", 3: "999999999999B", 4: "1K-NaN"} {
		r := p.Ads[i].Ad.Reach
		if string(r.UniqueUsersSeen) != text {
			t.Errorf("ad %d reach text %q, want %q", i, r.UniqueUsersSeen, text)
		}
		if b := ParseBounds(string(r.UniqueUsersSeen)); b.Lower != nil || b.Upper != nil {
			t.Errorf("ad %d reach %q bounds %v-%v, want NULL", i, text, deref(b.Lower), deref(b.Upper))
		}
	}
	if b := ParseBounds(p.Ads[4].Ad.Reach.UniqueUsersSeenByCountry["DE"]); b.Lower != nil || b.Upper != nil {
		t.Error("NaNK by country has bounds")
	}
	wantRejects(t, p.Rejects, map[int]string{
		1:  `ad.id: "1.7e18" is not a 64-bit integer`,
		2:  `ad.id: "18446744073709551616" is not a 64-bit integer`,
		3:  `ad.id: "9223372036854775808" is not a 64-bit integer`,
		4:  `ad.id: "12 34" is not a 64-bit integer`,
		5:  `ad.first_shown_date: date "2023-13-45"`,
		6:  `ad.status: text field holds {`,
		8:  `ad.id: ad id 0 is not a positive id`,
		9:  `ad.id: ad id -7 is not a positive id`,
		10: `advertiser.business_id: business id -1 is not a positive id`,
		12: `ad.id: missing`,
		13: `ad.id: missing`,
		14: `ad: holds a JSON string where an object belongs`,
		16: `advertiser.business_name: text field holds {`,
		17: `advertiser.business_id: "1.7e18"`,
		18: `ad.videos.url: text field holds [`,
		19: `ad.last_shown_date: date "20231345"`,
	})
	// A small item is kept exactly as sent.
	for _, r := range p.Rejects {
		if r.Index == 4 && string(r.Item) != `{"ad": {"id": "12 34", "status": "active"}, "advertiser": {"business_id": 1}}` {
			t.Errorf("item 4 kept as %s", r.Item)
		}
	}
}

// TestDecodeAdQueryPageErrors: the error is only for data that is unusable as
// a whole; a list that is not a list is a reject, and a missing has_more is
// left to the caller (HasMore.Set false), as before.
func TestDecodeAdQueryPageErrors(t *testing.T) {
	for _, tc := range []struct {
		data    string
		err     bool
		rejects int
		set     bool
	}{
		{data: `null`, err: true},
		{data: ``, err: true},
		{data: `[]`, err: true},
		{data: `"ads"`, err: true},
		{data: `{"ads":[`, err: true},
		{data: `{"has_more":"maybe","ads":[]}`, err: true},
		{data: `{"has_more":true,"search_id":5,"ads":[]}`, err: true},
		{data: `{"has_more":true,"search_id":{"x":1},"ads":[]}`, err: true},
		{data: `{"has_more":true,"search_id":"s","ads":"oops"}`, rejects: 1, set: true},
		{data: `{"has_more":true,"search_id":"s","ads":{"ad":{}}}`, rejects: 1, set: true},
		{data: `{"ads":[]}`},
		{data: `{"has_more":"true","search_id":null,"ads":null}`, set: true},
		{data: `{"has_more":false}`, set: true},
	} {
		p, err := DecodeAdQuery(json.RawMessage(tc.data))
		if (err != nil) != tc.err || len(p.Rejects) != tc.rejects || (err == nil && p.HasMore.Set != tc.set) {
			t.Errorf("DecodeAdQuery(%s) = %+v, %v", tc.data, p, err)
		}
		if tc.rejects == 1 && p.Rejects[0].Index != -1 {
			t.Errorf("a list that is not a list has index %d, want -1", p.Rejects[0].Index)
		}
	}
}

// TestRejectExcerpt: whatever the item, Reject.Item is valid JSON of at most
// MaxRejectItem bytes, so a hostile item cannot blow up storage.
func TestRejectExcerpt(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	ctrl := strings.Repeat("\x01", 10_000)                          // each escapes to six bytes
	multi := strings.Repeat("€", 5000)                              // three bytes each, must not be cut mid-rune
	nested := strings.Repeat("[", 3000) + strings.Repeat("]", 3000) // deep and long
	for name, status := range map[string]string{
		"1 MiB string": fmt.Sprintf(`{"s":%q}`, big),
		"control":      mustJSON(t, map[string]string{"s": ctrl}),
		"multibyte":    mustJSON(t, map[string]string{"s": multi}),
		"nested":       nested,
	} {
		page := `{"has_more":false,"search_id":"","ads":[{"ad":{"id":1,"status":` + status + `}},{"ad":{"id":2}}]}`
		p, err := DecodeAdQuery(json.RawMessage(page))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(p.Ads) != 1 || len(p.Rejects) != 1 {
			t.Fatalf("%s: %d ads %d rejects", name, len(p.Ads), len(p.Rejects))
		}
		r := p.Rejects[0]
		if len(r.Item) > MaxRejectItem || !json.Valid(r.Item) || len(r.Err) > maxRejectErr+len("…") {
			t.Fatalf("%s: item %d bytes (valid %v), err %d bytes", name, len(r.Item), json.Valid(r.Item), len(r.Err))
		}
		var s string
		if json.Unmarshal(r.Item, &s) != nil || !strings.HasPrefix(s, `{"ad":{"id":1,"status":`) || !strings.Contains(s, "bytes)") {
			t.Fatalf("%s: excerpt %.80s… does not keep the item's beginning and its size", name, r.Item)
		}
		if len(r.Item) < MaxRejectItem/2 {
			t.Errorf("%s: excerpt only %d bytes", name, len(r.Item))
		}
	}
	if got := Excerpt([]byte(`{"a": 1}`)); string(got) != `{"a": 1}` {
		t.Errorf("small item changed: %s", got)
	}
	if got := Excerpt([]byte(`{"a": `)); !json.Valid(got) {
		t.Errorf("invalid JSON kept as is: %s", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDecodeCommercialContentHostile(t *testing.T) {
	p, err := DecodeCommercialContent(envData(t, "commercial_content_hostile.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.HasMore.V || !p.HasMore.Set || p.SearchID != "S2" {
		t.Fatalf("page %+v", p.Page)
	}
	var ids []string
	for _, c := range p.CommercialContents {
		ids = append(ids, string(c.ID))
	}
	if want := []string{"v09044g40000ce6enu3c77u36l73sp20", "38267490502373", "v0006"}; !slices.Equal(ids, want) {
		t.Fatalf("good posts %q, want %q", ids, want)
	}
	if v := p.CommercialContents[2].Videos; len(v) != 1 || v[0].CoverImageURL != "https://c6" {
		t.Fatalf("videos %+v", v)
	}
	wantRejects(t, p.Rejects, map[int]string{
		1:  `id: "1.7e18" is not a 64-bit integer`,
		2:  `id: "18446744073709551616" is not a 64-bit integer`,
		3:  `id: "12 34" holds white space`,
		4:  `create_date: date "2023-13-45"`,
		5:  `label: text field holds {`,
		7:  `id: "0" is not a positive id`,
		8:  `id: "-5" is not a positive id`,
		9:  `id: missing`,
		10: `create_timestamp: "12 34" is not a 64-bit integer`,
		11: `brand_names: text field holds {`,
		12: `holds a JSON string where an object belongs`,
	})
}

func TestDecodeAdvertiserQueryHostile(t *testing.T) {
	p, err := DecodeAdvertiserQuery(envData(t, "advertiser_query_hostile.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Advertisers) != 2 || p.Advertisers[0].BusinessID.V != 7057157514558702338 ||
		p.Advertisers[1].BusinessID.V != 183746395837295 || p.Advertisers[1].BusinessName != "183746395837295" {
		t.Fatalf("good advertisers %+v", p.Advertisers)
	}
	wantRejects(t, p.Rejects, map[int]string{
		1:  `business_id: "1.7e18"`,
		2:  `business_id: "18446744073709551616"`,
		3:  `business_id: "12 34"`,
		4:  `business_id: business id 0 is not a positive id`,
		5:  `business_id: business id -3 is not a positive id`,
		6:  `business_name: text field holds {`,
		8:  `business_id: missing`,
		9:  `holds a JSON array where an object belongs`,
		10: `country_code: text field holds [`,
	})
	for _, data := range []string{`[]`, `null`, `{"advertisers":`} {
		if _, err := DecodeAdvertiserQuery(json.RawMessage(data)); err == nil {
			t.Errorf("DecodeAdvertiserQuery(%s) accepted", data)
		}
	}
	// has_more and search_id are not advertiser/query fields: junk there costs nothing.
	if p, err := DecodeAdvertiserQuery(json.RawMessage(`{"has_more":"maybe","search_id":7,"advertisers":[{"business_id":5}]}`)); err != nil || len(p.Advertisers) != 1 {
		t.Errorf("%+v %v", p, err)
	}
}

// TestDecodeAdReportHostile: a bad entry is a reject and its country's good
// entries stay; a bad country key, or a series that is not a list, rejects
// that series alone. Before the fix one bad entry failed the whole report.
func TestDecodeAdReportHostile(t *testing.T) {
	data := envData(t, "ad_report_hostile.json")
	var old ReportData
	if err := json.Unmarshal(data, &old); err == nil {
		t.Fatal("the whole-report decoder accepts the hostile report; the test data lost its point")
	}
	p, err := DecodeAdReport(data)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for c, s := range p.Series {
		var parts []string
		for _, d := range s {
			parts = append(parts, d.Date.T.Format("0102")+"="+fmt.Sprint(d.Count.V))
		}
		got[c] = strings.Join(parts, ",")
	}
	want := map[string]string{"ES": "0109=48", "IT": "0109=45,0108=24", "DE": "0109=0", "PL": "0109=9"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("series %v, want %v", got, want)
	}
	if p.Count() != 5 {
		t.Fatalf("Count() = %d", p.Count())
	}
	wantRejects(t, p.Rejects, map[int]string{
		0:  `country key "" is not a two-letter code`,
		2:  `count: -2 is negative`,
		3:  `count: missing`,
		4:  `date: missing`,
		5:  `count: "12 34"`,
		6:  `count: "18446744073709551616"`,
		7:  `series of FR is not a list`,
		8:  `country key "I T"`,
		10: `date: date "2023-13-45"`,
		12: `count: "1.7e18"`,
		13: `country key "Italy"`,
		14: `date: missing`,
	})
	keys := map[int]string{}
	for _, r := range p.Rejects {
		keys[r.Index] = r.Key
	}
	if keys[2] != "ES" || keys[8] != "I T" || keys[12] != "IT" || keys[14] != "PL" {
		t.Errorf("reject keys %v", keys)
	}
	for _, tc := range []struct {
		data string
		err  bool
	}{
		{`[]`, true},
		{`{"count_time_series_by_country":[1,2]}`, true},
		{`{"count_time_series_by_country":"IT"}`, true},
		{`{"count_time_series_by_country":null}`, false},
		{`{}`, false},
	} {
		if _, err := DecodeAdReport(json.RawMessage(tc.data)); (err != nil) != tc.err {
			t.Errorf("DecodeAdReport(%s) err = %v", tc.data, err)
		}
	}
}

// TestDecodeAdDetailHostile: a detail is one item; a bad one is a Reject the
// caller records (so the id is not fetched again), never a panic and never
// an error unless the data is not an object at all.
func TestDecodeAdDetailHostile(t *testing.T) {
	for _, tc := range []struct {
		data   string
		reject string // "" means the detail decodes
		err    bool
	}{
		{data: `{}`},
		{data: `{"ad":{"id":1923845247192304},"advertiser":{"business_id":7057157514558702338}}`},
		{data: `{"ad":{"id":1.7e18}}`, reject: `ad.id: "1.7e18"`},
		{data: `{"ad":{"id":18446744073709551616}}`, reject: `ad.id: "18446744073709551616"`},
		{data: `{"ad":{"id":"12 34"}}`, reject: `ad.id: "12 34"`},
		{data: `{"ad":{"id":0}}`, reject: `ad.id: ad id 0 is not a positive id`},
		{data: `{"ad":{"first_shown_date":"2023-13-45"}}`, reject: `ad.first_shown_date: date "2023-13-45"`},
		{data: `{"ad":{"status":{"x":1}}}`, reject: `ad.status: text field holds`},
		{data: `{"advertiser":{"business_id":-1}}`, reject: `advertiser.business_id: business id -1`},
		{data: `{"advertiser":{"tiktok_account":{"follower_count":"many"}}}`, reject: `advertiser.tiktok_account.follower_count: "many"`},
		{data: `{"ad":{"reach":{"unique_users_seen_by_country":{"DE":{"v":"1K"}}}}}`, reject: `ad.reach.unique_users_seen_by_country: text field holds`},
		{data: `{"ad":{"rejection_info":{"reasons":"one"}}}`, reject: `ad.rejection_info.reasons: holds a JSON string where a list belongs`},
		{data: `{"ad_group":{"targeting_info":{"age":{"18-24":"maybe"}}}}`, reject: `ad_group.targeting_info.age: flag "maybe" is not a boolean`},
		{data: `{"ad_group":{"target":{"country":"DE"}}}`, reject: `ad_group.target.country: holds a JSON string where a list belongs`},
		{data: `{"ad":"x"}`, reject: `ad: holds a JSON string where an object belongs`},
		{data: `[]`, err: true},
		{data: `null`, err: true},
		{data: `{"ad":`, err: true},
	} {
		p, err := DecodeAdDetail(json.RawMessage(tc.data))
		switch {
		case tc.err:
			if err == nil {
				t.Errorf("DecodeAdDetail(%s) accepted", tc.data)
			}
		case err != nil:
			t.Errorf("DecodeAdDetail(%s): %v", tc.data, err)
		case tc.reject == "":
			if !p.OK || p.Reject != nil {
				t.Errorf("DecodeAdDetail(%s) = %+v", tc.data, p)
			}
		case p.OK || p.Reject == nil || !strings.Contains(p.Reject.Err, tc.reject) || string(p.Reject.Item) != tc.data:
			t.Errorf("DecodeAdDetail(%s) = %+v, want a reject containing %q", tc.data, p, tc.reject)
		}
	}
}
