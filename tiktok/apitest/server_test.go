package apitest

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestToken(t *testing.T) {
	s := start(t, Options{AdvertisedTTL: 1234})
	c := &client{t: t, s: s, hc: http.DefaultClient}
	tests := []struct {
		name, key, secret, grant string
		status                   int
		errCode                  string
	}{
		{"ok", "demo-client-key", "demo-client-secret", "client_credentials", 200, ""},
		{"bad secret", "demo-client-key", "wrong", "client_credentials", 401, "invalid_client"},
		{"bad key", "other", "demo-client-secret", "client_credentials", 401, "invalid_client"},
		{"missing grant", "demo-client-key", "demo-client-secret", "", 400, "invalid_request"},
		{"wrong grant", "demo-client-key", "demo-client-secret", "authorization_code", 400, "unsupported_grant_type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := c.token(tc.key, tc.secret, tc.grant)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			if tc.errCode == "" {
				tok, _ := m["access_token"].(string)
				if !strings.HasPrefix(tok, "clt.") || m["expires_in"] != float64(1234) || m["token_type"] != "Bearer" {
					t.Fatalf("bad token answer %s", body)
				}
				return
			}
			if m["error"] != tc.errCode || m["error_description"] == "" || m["log_id"] == "" {
				t.Fatalf("bad error answer %s", body)
			}
		})
	}
	for _, rq := range s.Requests() {
		if strings.Contains(string(rq.Body), "demo-client-secret") {
			t.Fatalf("secret recorded: %s", rq.Body)
		}
	}
	if st := s.Stats(); st.Tokens != 1 || st.DataRequests != 0 || st.ByEndpoint[EndpointToken] != len(tests) {
		t.Fatalf("stats %+v", st)
	}
}

func TestAuth(t *testing.T) {
	s := start(t, Options{TokenTTL: 150 * time.Millisecond})
	c := newClient(t, s)
	body := `{"search_term":"coffee"}`
	ctx := context.Background()
	tests := []struct {
		name, auth string
		status     int
	}{
		{"missing", "", 401},
		{"unknown", "Bearer clt.nope", 401},
		{"wrong scheme", "Basic " + c.tok, 401},
		{"bearer", "Bearer " + c.tok, 200},
		{"lower-case scheme", "bearer " + c.tok, 200},
		{"upper-case scheme", "BEARER  " + c.tok, 200},
	}
	for _, tc := range tests {
		r := c.raw(ctx, EndpointAdvertiser, "business_id", body, tc.auth)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.status)
		}
		if tc.status == 401 && r.code != "access_token_invalid" {
			t.Errorf("%s: code %q", tc.name, r.code)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if r := c.raw(ctx, EndpointAdvertiser, "business_id", body, "Bearer "+c.tok); r.status != 401 || r.code != "access_token_invalid" {
		t.Fatalf("expired token: %d %q", r.status, r.code)
	}
	c2 := newClient(t, s)
	s.ExpireTokens()
	if r := c2.call(EndpointAdvertiser, "business_id", body); r.status != 401 {
		t.Fatalf("ExpireTokens: %d", r.status)
	}
	// Trailing slash is optional.
	c3 := newClient(t, s)
	req, _ := http.NewRequest(http.MethodPost, s.URL+DataPathBase+EndpointAdvertiser+"?fields=business_id", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c3.tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("no trailing slash: %d", resp.StatusCode)
	}
}

func TestAdQueryPaging(t *testing.T) {
	tests := []struct {
		name      string
		holes     float64
		country   string
		from, to  string
		maxCount  int
		wantShort bool
	}{
		{"FR month max 50", 0, "FR", "20240101", "20240131", 50, false},
		{"ALL week default page", 0, "", "20240301", "20240307", 0, false},
		{"GB two weeks 17", 0, "GB", "20230501", "20230514", 17, false},
		{"holes 0.3", 0.3, "DE", "20240101", "20240229", 20, true},
		{"holes 0.7 max 50", 0.7, "ALL", "20231001", "20231015", 50, true},
		{"empty result", 0, "LI", "20221001", "20221001", 50, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, Options{Seed: 42, HolesRate: tc.holes})
			c := newClient(t, s)
			u := s.Universe()
			want := u.Ads(AdQuery{Country: tc.country, From: day(tc.from), To: day(tc.to)})
			extra := map[string]any{}
			if tc.maxCount > 0 {
				extra["max_count"] = tc.maxCount
			}
			pages := c.pageAll(EndpointAdQuery, allAdFields(), adBody(tc.from, tc.to, tc.country, extra), "ads", 10000)
			var got []wireAd
			short, empty := false, false
			size := tc.maxCount
			if size == 0 {
				size = 10
			}
			for i, p := range pages {
				if len(p.items) > size {
					t.Fatalf("page %d has %d items", i, len(p.items))
				}
				if p.hasMore && len(p.items) < size {
					short = true
				}
				if p.hasMore && len(p.items) == 0 {
					empty = true
				}
				for _, it := range p.items {
					got = append(got, decodeAd(t, obj(it)))
				}
			}
			if len(got) != len(want) {
				t.Fatalf("got %d ads, want %d", len(got), len(want))
			}
			seen := map[int64]bool{}
			for i := range want {
				if seen[got[i].ID] {
					t.Fatalf("duplicate ad %d", got[i].ID)
				}
				seen[got[i].ID] = true
				if w := expectAd(want[i]); !reflect.DeepEqual(got[i], w) {
					t.Fatalf("ad %d:\n got %+v\nwant %+v", i, got[i], w)
				}
				if tc.country != "" && tc.country != "ALL" && !slices.Contains(want[i].Countries, tc.country) {
					t.Fatalf("ad %d does not target %s", want[i].ID, tc.country)
				}
			}
			if tc.wantShort && (!short || !empty) {
				t.Fatalf("holes: short page %v, empty page %v", short, empty)
			}
			if !tc.wantShort && short {
				t.Fatalf("short page without holes")
			}
		})
	}
}

func TestAdQueryFilters(t *testing.T) {
	s := start(t, Options{Seed: 3, Density: 4})
	c := newClient(t, s)
	u := s.Universe()
	from, to := "20231101", "20231130"
	someAds := u.Ads(AdQuery{From: day(from), To: day(to)})
	adv1, adv2 := someAds[0].Advertiser.BusinessID, someAds[5].Advertiser.BusinessID
	tests := []struct {
		name  string
		q     AdQuery
		extra map[string]any
		min   int
	}{
		{"exact coffee", AdQuery{Term: "coffee"}, map[string]any{"search_term": "coffee"}, 5},
		{"exact case-insensitive café", AdQuery{Term: "CAFÉ"}, map[string]any{"search_term": "CAFÉ", "search_type": "EXACT_PHRASE"}, 5},
		{"exact two words matches nothing", AdQuery{Term: "coffee vote"}, map[string]any{"search_term": "coffee vote"}, 0},
		{"fuzzy two words", AdQuery{Term: "coffee vote", SearchType: "fuzzy_phrase"}, map[string]any{"search_term": "coffee vote", "search_type": "fuzzy_phrase"}, 10},
		{"fuzzy unicode", AdQuery{Term: "wahl bière 猫", SearchType: "fuzzy_phrase", Country: "DE"}, map[string]any{"search_term": "wahl bière 猫", "search_type": "Fuzzy_Phrase"}, 3},
		{"advertiser ids", AdQuery{AdvertiserIDs: []int64{adv1, adv2}}, map[string]any{"advertiser_business_ids": []int64{adv1, adv2}}, 1},
		{"term ignores advertiser ids", AdQuery{Term: "sport", AdvertiserIDs: []int64{adv1}}, map[string]any{"search_term": "sport", "advertiser_business_ids": []int64{adv1}}, 5},
		{"size range", AdQuery{UsersSeenMin: 100_000, UsersSeenMax: 1_000_000}, map[string]any{"unique_users_seen_size_range": map[string]string{"min": "100K", "max": "1M"}}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.From, q.To = day(from), day(to)
			want := u.AdIDs(q)
			if len(want) < tc.min {
				t.Fatalf("universe has only %d ads for %+v", len(want), q)
			}
			extra := map[string]any{"max_count": 50}
			for k, v := range tc.extra {
				extra[k] = v
			}
			var got []int64
			for _, p := range c.pageAll(EndpointAdQuery, "ad.id", adBody(from, to, q.Country, extra), "ads", 1000) {
				for _, it := range p.items {
					got = append(got, wireInt(t, obj(obj(it)["ad"])["id"]))
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("got %d ids, want %d", len(got), len(want))
			}
		})
	}
	// The term really ignores the advertiser filter.
	a := u.AdIDs(AdQuery{From: day(from), To: day(to), Term: "sport", AdvertiserIDs: []int64{adv1}})
	b := u.AdIDs(AdQuery{From: day(from), To: day(to), Term: "sport"})
	if !slices.Equal(a, b) {
		t.Fatal("advertiser ids not ignored with a term")
	}
}

func TestFieldSelection(t *testing.T) {
	s := start(t, Options{})
	c := newClient(t, s)
	r := c.mustOK(EndpointAdQuery, "ad.id, advertiser.business_id", adBody("20240101", "20240110", "FR", nil))
	for _, it := range list(r.data["ads"]) {
		ad, adv := obj(obj(it)["ad"]), obj(obj(it)["advertiser"])
		if len(ad) != 1 || ad["id"] == nil || len(adv) != 1 || adv["business_id"] == nil {
			t.Fatalf("unrequested fields sent: %v", it)
		}
	}
	r = c.mustOK(EndpointAdQuery, "ad.status", adBody("20240101", "20240110", "FR", nil))
	for _, it := range list(r.data["ads"]) {
		if _, ok := obj(it)["advertiser"]; ok {
			t.Fatalf("advertiser sent without advertiser fields: %v", it)
		}
	}
	r = c.mustOK(EndpointContent, "id", map[string]any{"filters": map[string]any{"content_published_date_range": map[string]any{"min": 20240101, "max": 20240102}}})
	for _, it := range list(r.data["commercial_contents"]) {
		if len(obj(it)) != 1 {
			t.Fatalf("unrequested content fields: %v", it)
		}
	}
}

func TestAdDetail(t *testing.T) {
	s := start(t, Options{Seed: 9})
	c := newClient(t, s)
	u := s.Universe()
	ads := u.Ads(AdQuery{From: day("20240201"), To: day("20240203")})
	fields := strings.Join(adDetailFields, ",")
	var sawRejection, sawBig, sawNoAccount, sawNullNotice bool
	for _, want := range ads[:40] {
		r := c.mustOK(EndpointAdDetail, fields, map[string]any{"ad_id": want.ID})
		got := decodeAd(t, r.data)
		if w := expectAd(want); !reflect.DeepEqual(got, w) {
			t.Fatalf("ad %d:\n got %+v\nwant %+v", want.ID, got, w)
		}
		if want.ID > 1<<53 {
			sawBig = true
		}
		ad, adv := obj(r.data["ad"]), obj(r.data["advertiser"])
		if want.Reach != nil {
			byc := obj(obj(ad["reach"])["unique_users_seen_by_country"])
			for k, v := range want.Reach.ByCountry {
				if byc[k] != v {
					t.Fatalf("reach by country %v, want %v", byc, want.Reach.ByCountry)
				}
			}
		}
		if adv["country_code"] != want.Advertiser.CountryCode {
			t.Fatalf("country_code %v", adv["country_code"])
		}
		acc := obj(adv["tiktok_account"])
		if want.Advertiser.TikTok == nil {
			sawNoAccount = true
			if acc != nil {
				t.Fatalf("unexpected tiktok_account")
			}
		} else if wireInt(t, acc["follower_count"]) != want.Advertiser.TikTok.FollowerCount ||
			acc["profile_url"] != want.Advertiser.TikTok.ProfileURL || acc["avatar_url"] != want.Advertiser.TikTok.AvatarURL {
			t.Fatalf("tiktok_account %v", acc)
		}
		tg := obj(obj(r.data["ad_group"])["targeting_info"])
		if tg["number_of_users_targeted"] != want.Targeting.NumberOfUsersTargeted || len(list(tg["country"])) != len(want.Countries) {
			t.Fatalf("targeting %v", tg)
		}
		for k, v := range want.Targeting.Age {
			if obj(tg["age"])[k] != v {
				t.Fatalf("age %v", tg["age"])
			}
		}
		if want.Rejection != nil {
			sawRejection = true
			rej := obj(ad["rejection_info"])
			if len(list(rej["reasons"])) != len(want.Rejection.Reasons) {
				t.Fatalf("rejection %v", rej)
			}
			if want.Rejection.AutomatedNotice == nil {
				if v, ok := rej["automated_notice"]; !ok || v != nil {
					t.Fatalf("automated_notice should be null: %v", rej)
				}
				sawNullNotice = true
			}
			for i, cc := range list(rej["affected_countries"]) {
				if cc != CountryName(want.Rejection.AffectedCountries[i]) {
					t.Fatalf("affected_countries %v", rej["affected_countries"])
				}
			}
		} else if _, ok := ad["rejection_info"]; ok {
			t.Fatalf("unexpected rejection_info")
		}
	}
	if !sawBig || !sawRejection || !sawNoAccount || !sawNullNotice {
		t.Fatalf("sample lacks variety: big %v rejection %v noAccount %v nullNotice %v", sawBig, sawRejection, sawNoAccount, sawNullNotice)
	}
	// The id may be sent as a string too; unknown ids are rejected.
	if r := c.call(EndpointAdDetail, "ad.id", `{"ad_id":"`+strconv.FormatInt(ads[0].ID, 10)+`"}`); r.status != 200 {
		t.Fatalf("string ad_id: %d %s", r.status, r.msg)
	}
	for _, bad := range []string{`{"ad_id":1923845247192304}`, `{"ad_id":7057157514558702338}`, `{}`, `{"ad_id":1.5}`} {
		if r := c.call(EndpointAdDetail, "ad.id", bad); r.status != 400 || r.code != "invalid_params" {
			t.Fatalf("%s: %d %q", bad, r.status, r.code)
		}
	}
}

func TestAdReport(t *testing.T) {
	s := start(t, Options{Seed: 5})
	c := newClient(t, s)
	u := s.Universe()
	adv := u.Ads(AdQuery{From: day("20240105"), To: day("20240105")})[0].Advertiser.BusinessID
	tests := []struct {
		name    string
		country string
		ids     []int64
	}{
		{"ALL", "ALL", nil},
		{"default country", "", nil},
		{"IT", "IT", nil},
		{"advertiser", "ALL", []int64{adv}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := map[string]any{"ad_published_date_range": map[string]any{"min": "20240101", "max": 20240110}}
			if tc.country != "" {
				f["country_code"] = tc.country
			}
			if tc.ids != nil {
				f["advertiser_business_ids"] = tc.ids
			}
			r := c.mustOK(EndpointAdReport, "count_time_series_by_country", map[string]any{"filters": f})
			got := map[string]map[string]int64{}
			for cc, l := range obj(r.data["count_time_series_by_country"]) {
				got[cc] = map[string]int64{}
				prev := "99999999"
				for _, e := range list(l) {
					d := wireText(obj(e)["date"])
					if d >= prev {
						t.Fatalf("dates not descending: %v", l)
					}
					prev = d
					got[cc][d] = wireInt(t, obj(e)["count"])
				}
			}
			want := u.Report(tc.country, day("20240101"), day("20240110"), tc.ids)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got %v\nwant %v", got, want)
			}
			if tc.country == "IT" {
				var n int64
				for _, v := range want["IT"] {
					n += v
				}
				if int(n) != len(u.AdIDs(AdQuery{Country: "IT", From: day("20240101"), To: day("20240110")})) {
					t.Fatal("report disagrees with ad/query")
				}
			}
		})
	}
}

func TestAdvertiserQuery(t *testing.T) {
	s := start(t, Options{})
	c := newClient(t, s)
	u := s.Universe()
	for _, tc := range []struct {
		term   string
		max    int
		fields string
	}{{"café", 0, "business_name,business_id,country_code"}, {"co", 50, "business_id"}, {"GMBH", 3, "business_name"}, {"zzzz", 10, "business_id"}} {
		body := map[string]any{"search_term": tc.term}
		if tc.max > 0 {
			body["max_count"] = tc.max
		}
		r := c.mustOK(EndpointAdvertiser, tc.fields, body)
		got := list(r.data["advertisers"])
		want := u.Advertisers(tc.term, tc.max)
		if len(got) != len(want) {
			t.Fatalf("%q: got %d want %d", tc.term, len(got), len(want))
		}
		for i, w := range want {
			m := obj(got[i])
			if strings.Contains(tc.fields, "business_id") && wireInt(t, m["business_id"]) != w.BusinessID {
				t.Fatalf("%q: id %v want %d", tc.term, m["business_id"], w.BusinessID)
			}
			if strings.Contains(tc.fields, "business_name") && wireText(m["business_name"]) != w.BusinessName {
				t.Fatalf("%q: name %v", tc.term, m["business_name"])
			}
			if !strings.Contains(tc.fields, "country_code") && m["country_code"] != nil {
				t.Fatal("unrequested country_code")
			}
		}
	}
}

func TestCommercialContent(t *testing.T) {
	for _, holes := range []float64{0, 0.5} {
		s := start(t, Options{Seed: 11, HolesRate: holes})
		c := newClient(t, s)
		u := s.Universe()
		users := u.CreatorsIn("FR")[:2]
		for _, tc := range []struct {
			country string
			users   []string
		}{{"FR", nil}, {"ALL", nil}, {"", users}} {
			f := map[string]any{"content_published_date_range": map[string]any{"min": "20240101", "max": "20240114"}}
			if tc.country != "" {
				f["creator_country_code"] = tc.country
			}
			if tc.users != nil {
				f["creator_usernames"] = tc.users
			}
			want := u.CommercialContent(tc.country, day("20240101"), day("20240114"), tc.users)
			var got []map[string]any
			for _, p := range c.pageAll(EndpointContent, strings.Join(contentFields, ","), map[string]any{"filters": f, "max_count": 30}, "commercial_contents", 1000) {
				for _, it := range p.items {
					got = append(got, obj(it))
				}
			}
			if len(got) != len(want) || len(want) == 0 {
				t.Fatalf("%s: got %d want %d", tc.country, len(got), len(want))
			}
			for i, w := range want {
				g := got[i]
				if g["id"] != w.ID || wireText(g["create_date"]) != DateString(w.CreateDate) ||
					wireInt(t, g["create_timestamp"]) != w.CreateTimestamp || obj(g["creator"])["username"] != w.Creator ||
					g["label"] != "Paid partnership" || len(list(g["brand_names"])) != len(w.BrandNames) {
					t.Fatalf("content %d: %v want %+v", i, g, w)
				}
				if DateString(time.Unix(w.CreateTimestamp, 0)) != DateString(w.CreateDate) {
					t.Fatal("timestamp not within create_date")
				}
				vids := list(g["videos"])
				if len(vids) != len(w.Videos) {
					t.Fatalf("videos %v", vids)
				}
				for j, v := range vids {
					if wireInt(t, obj(v)["id"]) != w.Videos[j].ID || obj(v)["url"] != w.Videos[j].URL {
						t.Fatalf("video %v", v)
					}
				}
			}
		}
	}
}

func TestSearchID(t *testing.T) {
	s := start(t, Options{SearchIDTTL: 300 * time.Millisecond})
	c := newClient(t, s)
	body := adBody("20240101", "20240131", "FR", nil)
	r := c.mustOK(EndpointAdQuery, "ad.id", body)
	sid := wireText(r.data["search_id"])
	r2 := c.mustOK(EndpointAdQuery, "ad.id", body)
	if wireText(r2.data["search_id"]) == sid {
		t.Fatal("search_id not new on every page")
	}
	tests := []struct {
		name string
		body map[string]any
		msg  string
	}{
		{"other country", adBody("20240101", "20240131", "DE", map[string]any{"search_id": sid}), "different query"},
		{"other dates", adBody("20240101", "20240130", "FR", map[string]any{"search_id": sid}), "different query"},
		{"other term", adBody("20240101", "20240131", "FR", map[string]any{"search_id": sid, "search_term": "vote"}), "different query"},
		{"garbage", adBody("20240101", "20240131", "FR", map[string]any{"search_id": "2837438294054038"}), "is invalid or expired"},
	}
	for _, tc := range tests {
		r := c.call(EndpointAdQuery, "ad.id", tc.body)
		if r.status != 400 || r.code != "invalid_params" || !strings.Contains(r.msg, tc.msg) {
			t.Errorf("%s: %d %q %q", tc.name, r.status, r.code, r.msg)
		}
	}
	// A content search_id is no good for ad/query.
	cr := c.mustOK(EndpointContent, "id", map[string]any{"filters": map[string]any{"content_published_date_range": map[string]any{"min": "20240101", "max": "20240131"}}})
	if r := c.call(EndpointAdQuery, "ad.id", adBody("20240101", "20240131", "FR", map[string]any{"search_id": wireText(cr.data["search_id"])})); r.status != 400 {
		t.Fatalf("cross-endpoint search_id accepted")
	}
	body["search_id"] = sid
	c.mustOK(EndpointAdQuery, "ad.id", body)
	time.Sleep(350 * time.Millisecond)
	r = c.call(EndpointAdQuery, "ad.id", body)
	if r.status != 400 || r.msg != "Search Id "+sid+" is invalid or expired" {
		t.Fatalf("expired: %d %q", r.status, r.msg)
	}
	if rq := s.Requests(); rq[len(rq)-1].SearchID != sid {
		t.Fatalf("request record lacks search_id")
	}
}

func TestValidation(t *testing.T) {
	s := start(t, Options{})
	c := newClient(t, s)
	okRange := map[string]any{"min": "20240101", "max": "20240131"}
	af := allAdFields()
	long := strings.Repeat("é", 51)
	tests := []struct {
		name, ep, fields string
		body             any
		msg              string // substring
	}{
		{"fields missing", EndpointAdQuery, "", adBody("20240101", "20240131", "FR", nil), "fields"},
		{"legacy fields", EndpointAdQuery, "ad,ad_group", adBody("20240101", "20240131", "FR", nil), `"ad"`},
		{"detail field on query", EndpointAdQuery, "ad.id,ad_group.targeting_info", adBody("20240101", "20240131", "FR", nil), "ad_group.targeting_info"},
		{"malformed json", EndpointAdQuery, af, `{"filters":{"ad_published_date_range":{"min":"20240101","max":"20240131"},}}`, "Invalid request body"},
		{"trailing data", EndpointAdQuery, af, `{"filters":{"ad_published_date_range":{"min":"20240101","max":"20240131"}}} {}`, "after the JSON"},
		{"empty body", EndpointAdQuery, af, ``, "empty"},
		{"country instead of country_code", EndpointAdQuery, af, map[string]any{"filters": map[string]any{"ad_published_date_range": okRange, "country": "IT"}}, `unknown field "country"`},
		{"unknown top-level key", EndpointAdQuery, af, map[string]any{"filters": map[string]any{"ad_published_date_range": okRange}, "cursor": 1}, `unknown field "cursor"`},
		{"filters missing", EndpointAdQuery, af, map[string]any{"max_count": 5}, "filters is required"},
		{"date range missing", EndpointAdQuery, af, map[string]any{"filters": map[string]any{"country_code": "FR"}}, "ad_published_date_range is required"},
		{"min before 20221001", EndpointAdQuery, af, adBody("20220930", "20221010", "", nil), "on or after 20221001"},
		{"max before min", EndpointAdQuery, af, adBody("20240110", "20240101", "", nil), "before min"},
		{"max today", EndpointAdQuery, af, adBody("20240601", "20240615", "", nil), "before today"},
		{"max in future", EndpointAdQuery, af, adBody("20240601", "20250101", "", nil), "before today"},
		{"bad date format", EndpointAdQuery, af, adBody("2024-01-01", "20240131", "", nil), "YYYYMMDD"},
		{"impossible date", EndpointAdQuery, af, adBody("20240230", "20240301", "", nil), "not a valid date"},
		{"unsupported country", EndpointAdQuery, af, adBody("20240101", "20240131", "US", nil), "not a supported country"},
		{"CH for ads", EndpointAdQuery, af, adBody("20240101", "20240131", "CH", nil), "not a supported country"},
		{"term too long", EndpointAdQuery, af, adBody("20240101", "20240131", "", map[string]any{"search_term": long}), "51 characters"},
		{"bad search_type", EndpointAdQuery, af, adBody("20240101", "20240131", "", map[string]any{"search_type": "regex"}), "search_type"},
		{"max_count 51", EndpointAdQuery, af, adBody("20240101", "20240131", "", map[string]any{"max_count": 51}), "max_count"},
		{"max_count negative", EndpointAdQuery, af, adBody("20240101", "20240131", "", map[string]any{"max_count": -1}), "max_count"},
		{"size 2000K", EndpointAdQuery, af, adBody("20240101", "20240131", "", map[string]any{"unique_users_seen_size_range": map[string]string{"min": "2000K"}}), "below 1000"},
		{"size 1.1M", EndpointAdQuery, af, adBody("20240101", "20240131", "", map[string]any{"unique_users_seen_size_range": map[string]string{"max": "1.1M"}}), "below 1000"},
		{"size 1B2M", EndpointAdQuery, af, adBody("20240101", "20240131", "", map[string]any{"unique_users_seen_size_range": map[string]string{"max": "1B2M"}}), "below 1000"},
		{"size max 0K", EndpointAdQuery, af, adBody("20240101", "20240131", "", map[string]any{"unique_users_seen_size_range": map[string]string{"max": "0K"}}), "greater than 0"},
		{"size min > max", EndpointAdQuery, af, adBody("20240101", "20240131", "", map[string]any{"unique_users_seen_size_range": map[string]string{"min": "2M", "max": "10K"}}), "greater than max"},
		{"float business id", EndpointAdQuery, af, `{"filters":{"ad_published_date_range":{"min":"20240101","max":"20240131"},"advertiser_business_ids":[7.057157514558702e18]}}`, "64-bit"},
		{"detail unknown field", EndpointAdDetail, "ad.id,ad.reach,ad_group", map[string]any{"ad_id": 1}, `"ad_group"`},
		{"detail unknown id", EndpointAdDetail, "ad.id", map[string]any{"ad_id": 1923845247192304}, "does not exist"},
		{"report wrong field", EndpointAdReport, "count", map[string]any{"filters": map[string]any{"ad_published_date_range": okRange}}, "count"},
		{"report search_term", EndpointAdReport, "count_time_series_by_country", map[string]any{"filters": map[string]any{"ad_published_date_range": okRange}, "search_term": "x"}, "unknown field"},
		{"report min too early", EndpointAdReport, "count_time_series_by_country", map[string]any{"filters": map[string]any{"ad_published_date_range": map[string]any{"min": 20210102, "max": 20210109}}}, "20221001"},
		{"advertiser no term", EndpointAdvertiser, "business_id", map[string]any{"max_count": 5}, "search_term is required"},
		{"advertiser max_count", EndpointAdvertiser, "business_id", map[string]any{"search_term": "co", "max_count": 60}, "max_count"},
		{"advertiser term too long", EndpointAdvertiser, "business_id", map[string]any{"search_term": long}, "51 characters"},
		{"advertiser unknown field", EndpointAdvertiser, "business_id,paid_by", map[string]any{"search_term": "co"}, "paid_by"},
		{"content GB", EndpointContent, "id", map[string]any{"filters": map[string]any{"content_published_date_range": okRange, "creator_country_code": "GB"}}, "not a supported country"},
		{"content CH", EndpointContent, "id", map[string]any{"filters": map[string]any{"content_published_date_range": okRange, "creator_country_code": "CH"}}, "not a supported country"},
		{"content ad filter key", EndpointContent, "id", map[string]any{"filters": map[string]any{"ad_published_date_range": okRange}}, "unknown field"},
		{"content legacy fields", EndpointContent, "ad_id,video_urls", map[string]any{"filters": map[string]any{"content_published_date_range": okRange}}, "ad_id"},
		{"content max_count", EndpointContent, "id", map[string]any{"filters": map[string]any{"content_published_date_range": okRange}, "max_count": 100}, "max_count"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.call(tc.ep, tc.fields, tc.body)
			if r.status != 400 || r.code != "invalid_params" || !strings.Contains(r.msg, tc.msg) || r.logID == "" {
				t.Fatalf("status %d code %q msg %q", r.status, r.code, r.msg)
			}
		})
	}
	// Integer and string dates are both accepted; lower-case country too.
	c.mustOK(EndpointAdQuery, af, map[string]any{"filters": map[string]any{"ad_published_date_range": map[string]any{"min": 20240101, "max": "20240102"}, "country_code": "fr"}})
	c.mustOK(EndpointAdQuery, af, adBody("20240101", "20240614", "ALL", map[string]any{"unique_users_seen_size_range": map[string]string{"min": "0K", "max": "1B"}}))
}

func TestQuota(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2024, 6, 15, 23, 59, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := start(t, Options{Now: clock, DailyQuota: 5, EndpointQuota: map[string]int{EndpointAdDetail: 2}})
	c := newClient(t, s)
	good := adBody("20240101", "20240102", "FR", nil)
	detail := func() result { return c.call(EndpointAdDetail, "ad.id", map[string]any{"ad_id": 1}) }
	// Failed requests count too; unauthenticated ones do not.
	if r := c.raw(context.Background(), EndpointAdQuery, "ad.id", "{}", ""); r.status != 401 {
		t.Fatal(r.status)
	}
	steps := []struct {
		do     func() result
		status int
		code   string
	}{
		{func() result { return c.call(EndpointAdQuery, "ad.id", good) }, 200, "ok"},
		{detail, 400, "invalid_params"},
		{detail, 400, "invalid_params"},
		{detail, 429, "daily_quota_limit_exceeded"},
		{func() result { return c.call(EndpointAdQuery, "ad.id", good) }, 200, "ok"},
		{func() result { return c.call(EndpointAdQuery, "ad.id", good) }, 429, "daily_quota_limit_exceeded"},
		{func() result { return c.call(EndpointAdReport, "count_time_series_by_country", good) }, 429, "daily_quota_limit_exceeded"},
	}
	for i, st := range steps {
		r := st.do()
		if r.status != st.status || r.code != st.code {
			t.Fatalf("step %d: %d %q, want %d %q (%s)", i, r.status, r.code, st.status, st.code, r.msg)
		}
		if r.status == 429 && r.header.Get("Retry-After") != "" {
			t.Fatalf("quota error with Retry-After")
		}
	}
	if total, by := s.QuotaUsed(); total != 7 || by[EndpointAdDetail] != 3 {
		t.Fatalf("quota used %d %v", total, by)
	}
	mu.Lock()
	now = now.Add(2 * time.Minute) // past 00:00 UTC
	mu.Unlock()
	c.mustOK(EndpointAdQuery, "ad.id", adBody("20240101", "20240102", "FR", nil))
	if st := s.Stats(); st.ByCode["daily_quota_limit_exceeded"] != 3 || st.DataRequests != 9 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaults(t *testing.T) {
	body := adBody("20240101", "20240103", "FR", nil)
	tests := []struct {
		name  string
		f     Faults
		check func(t *testing.T, r result, took time.Duration)
	}{
		{"500", Faults{Err500: 1}, func(t *testing.T, r result, _ time.Duration) {
			if r.status != 500 || r.code != "internal_error" {
				t.Fatalf("%d %q", r.status, r.code)
			}
		}},
		{"429", Faults{Err429: 1, RetryAfter: 1500 * time.Millisecond}, func(t *testing.T, r result, _ time.Duration) {
			if r.status != 429 || r.code != "rate_limit_exceeded" || r.header.Get("Retry-After") != "2" {
				t.Fatalf("%d %q %q", r.status, r.code, r.header.Get("Retry-After"))
			}
		}},
		{"429 default retry-after", Faults{Err429: 1}, func(t *testing.T, r result, _ time.Duration) {
			if r.header.Get("Retry-After") != "1" {
				t.Fatalf("Retry-After %q", r.header.Get("Retry-After"))
			}
		}},
		{"truncated", Faults{Truncated: 1, Seed: 1}, func(t *testing.T, r result, _ time.Duration) {
			if r.err == nil {
				t.Fatalf("truncated body decoded: %s", r.raw)
			}
			if r.status != 0 && r.status != 200 {
				t.Fatalf("status %d", r.status)
			}
			var syn *json.SyntaxError
			if !errors.Is(r.err, io.ErrUnexpectedEOF) && !strings.Contains(r.err.Error(), "unexpected EOF") && !errors.As(r.err, &syn) {
				t.Fatalf("unexpected error %v", r.err)
			}
		}},
		{"html 504", Faults{HTML504: 1}, func(t *testing.T, r result, _ time.Duration) {
			if r.status != 504 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.raw), "<html>") {
				t.Fatalf("%d %q", r.status, r.header.Get("Content-Type"))
			}
		}},
		{"slow", Faults{Slow: 1, SlowDelay: 150 * time.Millisecond}, func(t *testing.T, r result, took time.Duration) {
			if r.status != 200 || took < 150*time.Millisecond {
				t.Fatalf("%d after %v", r.status, took)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := start(t, Options{Faults: tc.f})
			c := newClient(t, s) // token endpoint is never faulted
			for i := 0; i < 4; i++ {
				t0 := time.Now()
				r := c.call(EndpointAdQuery, "ad.id", body)
				tc.check(t, r, time.Since(t0))
			}
			if st := s.Stats(); st.Tokens != 1 {
				t.Fatalf("stats %+v", st)
			}
			s.SetFaults(Faults{})
			c.mustOK(EndpointAdQuery, "ad.id", body)
		})
	}
	t.Run("truncated modes", func(t *testing.T) {
		s := start(t, Options{Faults: Faults{Truncated: 1, Seed: 7}})
		c := newClient(t, s)
		var readErr, jsonErr bool
		for i := 0; i < 30; i++ {
			r := c.call(EndpointAdQuery, "ad.id", body)
			switch {
			case r.err == nil:
				t.Fatalf("truncated body decoded: %s", r.raw)
			case r.readErr:
				readErr = true
			case r.status == 200:
				jsonErr = true
			}
		}
		if !readErr || !jsonErr {
			t.Fatalf("read error %v, JSON error %v", readErr, jsonErr)
		}
		if s.Stats().ByCode[CodeTruncated] != 30 {
			t.Fatalf("stats %+v", s.Stats())
		}
	})
	t.Run("slow respects cancellation", func(t *testing.T) {
		s := start(t, Options{Faults: Faults{Slow: 1, SlowDelay: 5 * time.Second}})
		c := newClient(t, s)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		t0 := time.Now()
		b, _ := json.Marshal(body)
		r := c.raw(ctx, EndpointAdQuery, "ad.id", string(b), "Bearer "+c.tok)
		if r.err == nil || time.Since(t0) > 2*time.Second {
			t.Fatalf("err %v after %v", r.err, time.Since(t0))
		}
		deadline := time.Now().Add(2 * time.Second)
		for s.Stats().ByCode[CodeCanceled] != 1 {
			if time.Now().After(deadline) {
				t.Fatalf("handler did not return: %+v", s.Stats())
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

func TestQuirks(t *testing.T) {
	s := start(t, Options{Seed: 21, Quirks: true})
	c := newClient(t, s)
	u := s.Universe()
	seen := map[string]bool{}
	mark := func(k string) { seen[k] = true }
	// ad/query: a few hundred ads.
	body := adBody("20240101", "20240115", "ALL", map[string]any{"max_count": 20})
	want := u.Ads(AdQuery{From: day("20240101"), To: day("20240115")})
	var got []wireAd
	for i := 0; i < 20; i++ {
		r := c.mustOK(EndpointAdQuery, allAdFields(), body)
		switch r.data["has_more"].(type) {
		case bool:
			mark("has_more bool")
		case string:
			mark("has_more string")
		}
		for _, it := range list(r.data["ads"]) {
			ad, adv := obj(obj(it)["ad"]), obj(obj(it)["advertiser"])
			switch ad["first_shown_date"].(type) {
			case string:
				mark("date string")
			case json.Number:
				mark("date int")
			}
			for _, k := range []string{"business_id", "buisness_id", "paid_for_by", "paid_by"} {
				if _, ok := adv[k]; ok {
					mark(k)
				}
			}
			if r := obj(ad["reach"]); r != nil {
				for _, k := range []string{"unique_users_seen", "unique_user_seen"} {
					if _, ok := r[k]; ok {
						mark(k)
					}
				}
			}
			if n, ok := adv["business_name"].(json.Number); ok {
				mark("numeric name")
				if !isNumeric(n.String()) {
					t.Fatalf("bad numeric name %s", n)
				}
			}
			got = append(got, decodeAd(t, obj(it)))
		}
		if !wireBool(t, r.data["has_more"]) {
			break
		}
		body["search_id"] = wireText(r.data["search_id"])
	}
	if len(got) < 200 {
		t.Fatalf("only %d ads", len(got))
	}
	for i := range got {
		if w := expectAd(want[i]); !reflect.DeepEqual(got[i], w) {
			t.Fatalf("quirks changed values: %+v vs %+v", got[i], w)
		}
	}
	// ad/detail.
	for _, a := range want[:80] {
		r := c.mustOK(EndpointAdDetail, strings.Join(adDetailFields, ","), map[string]any{"ad_id": a.ID})
		ad := obj(r.data["ad"])
		for _, k := range []string{"videos", "ad_videos"} {
			if _, ok := ad[k]; ok {
				mark("detail " + k)
			}
		}
		for _, k := range []string{"targeting_info", "target"} {
			if _, ok := obj(r.data["ad_group"])[k]; ok {
				mark(k)
			}
		}
		for _, cc := range list(obj(ad["rejection_info"])["affected_countries"]) {
			if len(wireText(cc)) == 2 {
				mark("affected codes")
			} else {
				mark("affected names")
			}
		}
		if wireInt(t, obj(ad)["id"]) != a.ID {
			t.Fatal("detail id")
		}
	}
	// commercial content.
	cbody := map[string]any{"filters": map[string]any{"content_published_date_range": map[string]any{"min": "20240101", "max": "20240110"}}, "max_count": 20}
	for _, p := range c.pageAll(EndpointContent, strings.Join(contentFields, ","), cbody, "commercial_contents", 100) {
		for _, it := range p.items {
			if _, ok := obj(it)["video"]; ok {
				mark("video object")
			}
			if _, ok := obj(it)["videos"]; ok {
				mark("videos list")
			}
		}
	}
	for _, k := range []string{"has_more bool", "has_more string", "date string", "date int", "business_id", "buisness_id",
		"paid_for_by", "paid_by", "unique_users_seen", "unique_user_seen", "numeric name", "detail videos", "detail ad_videos",
		"targeting_info", "target", "affected codes", "affected names", "video object", "videos list"} {
		if !seen[k] {
			t.Errorf("variant %q never produced", k)
		}
	}
	// Without quirks only the documented forms appear.
	s2 := start(t, Options{Seed: 21})
	c2 := newClient(t, s2)
	r := c2.mustOK(EndpointAdQuery, allAdFields(), adBody("20240101", "20240115", "ALL", map[string]any{"max_count": 50}))
	if _, ok := r.data["has_more"].(bool); !ok {
		t.Fatal("has_more not bool")
	}
	for _, it := range list(r.data["ads"]) {
		ad, adv := obj(obj(it)["ad"]), obj(obj(it)["advertiser"])
		if _, ok := ad["first_shown_date"].(string); !ok || adv["buisness_id"] != nil || adv["paid_by"] != nil {
			t.Fatalf("undocumented form without quirks: %v", it)
		}
		if _, ok := adv["business_name"].(string); !ok {
			t.Fatalf("business_name not a string: %v", adv)
		}
	}
}

func TestEndlessTerm(t *testing.T) {
	s := start(t, Options{EndlessTerm: "removed advertiser"})
	c := newClient(t, s)
	body := adBody("20240101", "20240131", "FR", map[string]any{"search_term": "Removed Advertiser"})
	seen := map[string]bool{}
	for i := 0; i < 50; i++ {
		r := c.mustOK(EndpointAdQuery, "ad.id", body)
		sid := wireText(r.data["search_id"])
		if len(list(r.data["ads"])) != 0 || !wireBool(t, r.data["has_more"]) || seen[sid] {
			t.Fatalf("page %d: %v", i, r.data)
		}
		seen[sid] = true
		body["search_id"] = sid
	}
}

func TestRecordingAndConcurrency(t *testing.T) {
	s := start(t, Options{Faults: Faults{Err500: 0.3, Seed: 5}})
	c := newClient(t, s)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				c.call(EndpointAdQuery, "ad.id", adBody("20240101", "20240102", "FR", nil))
				_ = s.Stats()
				_ = s.Requests()
			}
		}()
	}
	wg.Wait()
	st := s.Stats()
	if st.DataRequests != 80 || st.ByCode["ok"]+st.ByCode["internal_error"] != 81 || st.ByCode["internal_error"] == 0 {
		t.Fatalf("stats %+v", st)
	}
	rq := s.Requests()
	if len(rq) != 81 || rq[0].Endpoint != EndpointToken {
		t.Fatalf("%d requests", len(rq))
	}
	logs := map[string]bool{}
	for i, r := range rq {
		if i > 0 && r.Time.Before(rq[i-1].Time) {
			t.Fatal("not in arrival order")
		}
		if logs[r.LogID] {
			t.Fatal("duplicate log id")
		}
		logs[r.LogID] = true
		if r.Endpoint == EndpointAdQuery && (r.Fields != "ad.id" || len(r.Body) == 0 || r.Status == 0) {
			t.Fatalf("bad record %+v", r)
		}
		if r.Code == "internal_error" && r.Fault != "500" {
			t.Fatalf("fault not recorded %+v", r)
		}
	}
}

func TestHandlerAndRouting(t *testing.T) {
	s := New(Options{Now: func() time.Time { return fixedNow }})
	if s.URL != "" {
		t.Fatal("New should not listen")
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	s.URL = ts.URL
	c := &client{t: t, s: s, hc: http.DefaultClient, tok: s.IssueToken()}
	c.mustOK(EndpointAdvertiser, "business_id", map[string]any{"search_term": "co"})
	for _, tc := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, DataPathBase + EndpointAdQuery + "/", 405},
		{http.MethodPost, DataPathBase + "ad/list/", 404},
		{http.MethodPost, "/v2/research/video/query/", 404},
		{http.MethodGet, TokenPath, 405},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+c.tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s %s: %d", tc.method, tc.path, resp.StatusCode)
		}
	}
	if st := s.Stats(); st.Tokens != 0 || st.DataRequests != 2 || st.ByCode[CodeNotFound] != 2 {
		t.Fatalf("stats %+v", st)
	}
}
