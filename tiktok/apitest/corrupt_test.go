package apitest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var corruptNow = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

// corruptCalls are one request per data endpoint that returns items.
var corruptCalls = []struct {
	ep, fields, body string
}{
	{EndpointAdQuery, "ad.id,ad.first_shown_date,ad.last_shown_date,ad.status,ad.reach,advertiser.business_id,advertiser.business_name",
		`{"filters":{"ad_published_date_range":{"min":"20240101","max":"20240110"},"country_code":"FR"},"max_count":50}`},
	{EndpointAdvertiser, "business_id,business_name,country_code", `{"search_term":"co","max_count":50}`},
	{EndpointContent, "id,create_date,label,creator,videos",
		`{"filters":{"content_published_date_range":{"min":"20240101","max":"20240110"},"creator_country_code":"FR"},"max_count":50}`},
	{EndpointAdReport, "count_time_series_by_country",
		`{"filters":{"ad_published_date_range":{"min":"20240101","max":"20240110"},"country_code":"ALL"}}`},
}

func serve(t *testing.T, h http.Handler, tok, ep, fields, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, DataPathBase+ep+"/?fields="+fields, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// dataOf decodes an envelope's data with exact numbers, dropping search_id
// (fresh on every page, so not part of the comparison).
func dataOf(t *testing.T, body []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var env struct {
		Data  map[string]any `json:"data"`
		Error struct{ Code string }
	}
	if err := dec.Decode(&env); err != nil || env.Error.Code != "ok" {
		t.Fatalf("not a successful envelope (%v): %.300s", err, body)
	}
	delete(env.Data, "search_id")
	return env.Data
}

type spoilt struct{ ep, key string }

// items lists an endpoint's items with their Pick keys, in a form where the
// spoilt value can be checked.
func items(ep string, data map[string]any) map[string]any {
	out := map[string]any{}
	switch ep {
	case EndpointAdQuery:
		for i, it := range data["ads"].([]any) {
			out[keyText(dig(it, "ad", "id"), i)] = it
		}
	case EndpointAdvertiser:
		for i, it := range data["advertisers"].([]any) {
			out[keyText(dig(it, "business_id"), i)] = it
		}
	case EndpointContent:
		for i, it := range data["commercial_contents"].([]any) {
			out[keyText(dig(it, "id"), i)] = it
		}
	case EndpointAdReport:
		for cc, s := range data["count_time_series_by_country"].(map[string]any) {
			out[cc] = s
			for i, e := range s.([]any) {
				out[cc+"/"+keyText(dig(e, "date"), i)] = e
			}
		}
	}
	return out
}

// TestCorruptSpoilsChosenItems: every item Pick chooses carries its form in
// the documented place, every other item is exactly as the server sent it,
// OnCorrupt reports each, and the same request is spoilt the same way twice.
func TestCorruptSpoilsChosenItems(t *testing.T) {
	s := New(Options{Now: func() time.Time { return corruptNow }, Quirks: true, Density: 6})
	tok := s.IssueToken()
	var mu sync.Mutex
	reported := map[spoilt]Form{}
	opts := CorruptOptions{Seed: 7, Every: 2, OnCorrupt: func(ep, key string, f Form) {
		mu.Lock()
		reported[spoilt{ep, key}] = f
		mu.Unlock()
	}}
	h := Corrupt(s.Handler(), opts)
	formsSeen := map[Form]bool{}
	for _, c := range corruptCalls {
		t.Run(c.ep, func(t *testing.T) {
			orig := dataOf(t, serve(t, s.Handler(), tok, c.ep, c.fields, c.body).Body.Bytes())
			rec := serve(t, h, tok, c.ep, c.fields, c.body)
			if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(rec.Body.Len()) {
				t.Errorf("Content-Length %s for a body of %d", cl, rec.Body.Len())
			}
			got := dataOf(t, rec.Body.Bytes())
			again := dataOf(t, serve(t, h, tok, c.ep, c.fields, c.body).Body.Bytes())
			if !reflect.DeepEqual(got, again) {
				t.Fatal("the same request was spoilt differently")
			}
			before, after := items(c.ep, orig), items(c.ep, got)
			if len(before) < 4 {
				t.Fatalf("only %d items to spoil", len(before))
			}
			spoiled := 0
			for key, it := range before {
				f, picked := opts.Pick(c.ep, key)
				if cc, _, entry := strings.Cut(key, "/"); c.ep == EndpointAdReport && entry {
					if _, whole := opts.Pick(c.ep, cc); whole {
						continue // the series was renamed; its entries are left alone
					}
				}
				if !picked {
					// A report series is compared entry by entry.
					if c.ep != EndpointAdReport || strings.Contains(key, "/") {
						if !reflect.DeepEqual(after[key], it) {
							t.Errorf("item %s changed without being picked:\n%v\n%v", key, it, after[key])
						}
					}
					continue
				}
				spoiled++
				formsSeen[f] = true
				mu.Lock()
				rf := reported[spoilt{c.ep, key}]
				mu.Unlock()
				if rf != f {
					t.Errorf("item %s: OnCorrupt reported %q, Pick says %q", key, rf, f)
				}
				checkSpoilt(t, c.ep, key, f, after, got)
			}
			if spoiled == 0 {
				t.Error("nothing spoilt")
			}
		})
	}
	for _, f := range []Form{FormFloatID, FormHugeID, FormSpacedID, FormZeroID, FormNegativeID, FormBadDate, FormObjectText, FormReachNaN} {
		if !formsSeen[f] {
			t.Logf("form %s not drawn with this seed", f)
		}
	}
}

// checkSpoilt asserts the value of form f at its place in the spoilt item.
func checkSpoilt(t *testing.T, ep, key string, f Form, after map[string]any, data map[string]any) {
	t.Helper()
	want := map[Form]any{FormFloatID: json.Number("1.7e18"), FormHugeID: json.Number("18446744073709551616"),
		FormSpacedID: "12 34", FormZeroID: json.Number("0"), FormNegativeID: json.Number("-7")}
	// A spoilt id no longer keys the item; find it by position in the list.
	find := func(list string, idPath ...string) any {
		for _, it := range data[list].([]any) {
			v := dig(it, idPath...)
			if keyText(v, -1) == key || (f.isID() && reflect.DeepEqual(v, want[f])) {
				return it
			}
		}
		return nil
	}
	switch ep {
	case EndpointAdQuery:
		it := find("ads", "ad", "id")
		switch {
		case f.isID():
			if it == nil {
				t.Errorf("ad %s: no item with id %v", key, want[f])
			}
		case f == FormBadDate:
			if dig(it, "ad", "first_shown_date") != "2023-13-45" {
				t.Errorf("ad %s: first_shown_date %v", key, dig(it, "ad", "first_shown_date"))
			}
		case f == FormObjectText:
			if _, ok := dig(it, "ad", "status").(map[string]any); !ok {
				t.Errorf("ad %s: status %v", key, dig(it, "ad", "status"))
			}
		default:
			if dig(it, "ad", "reach", "unique_users_seen") != reachText[f] || dig(it, "ad", "reach", "unique_user_seen") != nil {
				t.Errorf("ad %s: reach %v", key, dig(it, "ad", "reach"))
			}
		}
	case EndpointAdvertiser:
		it := find("advertisers", "business_id")
		if f == FormObjectText {
			if _, ok := dig(it, "business_name").(map[string]any); !ok {
				t.Errorf("advertiser %s: name %v", key, dig(it, "business_name"))
			}
		} else if it == nil {
			t.Errorf("advertiser %s: no item with id %v", key, want[f])
		}
	case EndpointContent:
		it := find("commercial_contents", "id")
		switch f {
		case FormObjectText:
			if _, ok := dig(it, "label").(map[string]any); !ok {
				t.Errorf("content %s: label %v", key, dig(it, "label"))
			}
		case FormBadDate:
			if dig(it, "create_date") != "2023-13-45" {
				t.Errorf("content %s: create_date %v", key, dig(it, "create_date"))
			}
		default:
			if it == nil {
				t.Errorf("content %s: no item with id %v", key, want[f])
			}
		}
	case EndpointAdReport:
		series := data["count_time_series_by_country"].(map[string]any)
		if !strings.Contains(key, "/") {
			if f != FormBadCountry || series[key] != nil || series[key+"?"] == nil {
				t.Errorf("series %s: form %s, keys %v", key, f, series)
			}
			return
		}
		cc, date, _ := strings.Cut(key, "/")
		for _, e := range series[cc].([]any) {
			d := keyText(dig(e, "date"), -1)
			if f == FormBadDate && d == "2023-13-45" {
				return
			}
			if d == date {
				if !reflect.DeepEqual(dig(e, "count"), want[f]) {
					t.Errorf("entry %s: count %v, want %v", key, dig(e, "count"), want[f])
				}
				return
			}
		}
		if f != FormBadDate {
			t.Errorf("entry %s not found", key)
		}
	}
}

func (f Form) isID() bool {
	switch f {
	case FormFloatID, FormHugeID, FormSpacedID, FormZeroID, FormNegativeID:
		return true
	}
	return false
}

// TestCorruptDetail: ad/detail's one item gets the form, reach forms in all
// three of its sizes.
func TestCorruptDetail(t *testing.T) {
	s := New(Options{Now: func() time.Time { return corruptNow }, Density: 6})
	tok := s.IssueToken()
	q := corruptCalls[0]
	ads := dataOf(t, serve(t, s.Handler(), tok, q.ep, q.fields, q.body).Body.Bytes())["ads"].([]any)
	fields := "ad.id,ad.status,ad.reach,ad.first_shown_date,advertiser.business_id,ad_group.targeting_info"
	for _, form := range []Form{FormReachHuge, FormHugeID, FormObjectText} {
		opts := CorruptOptions{Every: 1, Forms: []Form{form}}
		h := Corrupt(s.Handler(), opts)
		for _, a := range ads[:3] {
			id := keyText(dig(a, "ad", "id"), 0)
			body := `{"ad_id":` + id + `}`
			got := dataOf(t, serve(t, h, tok, EndpointAdDetail, fields, body).Body.Bytes())
			switch form {
			case FormReachHuge:
				if dig(got, "ad", "reach", "unique_users_seen") != "999999999999B" ||
					dig(got, "ad_group", "targeting_info", "number_of_users_targeted") != "999999999999B" {
					t.Errorf("ad %s: sizes not spoilt: %v %v", id, dig(got, "ad", "reach"), dig(got, "ad_group"))
				}
				by, _ := dig(got, "ad", "reach", "unique_users_seen_by_country").(map[string]any)
				n := 0
				for _, v := range by {
					if v == "999999999999B" {
						n++
					}
				}
				if len(by) > 0 && n != 1 {
					t.Errorf("ad %s: %d countries spoilt of %v", id, n, by)
				}
			case FormHugeID:
				if dig(got, "ad", "id") != json.Number("18446744073709551616") {
					t.Errorf("ad %s: id %v", id, dig(got, "ad", "id"))
				}
			case FormObjectText:
				if _, ok := dig(got, "ad", "status").(map[string]any); !ok {
					t.Errorf("ad %s: status %v", id, dig(got, "ad", "status"))
				}
			}
		}
	}
}

// TestCorruptPassesThrough: errors, the token endpoint, endpoints left out,
// forms that have no place, and bodies that are not JSON are not touched.
func TestCorruptPassesThrough(t *testing.T) {
	s := New(Options{Now: func() time.Time { return corruptNow }})
	tok := s.IssueToken()
	all := Corrupt(s.Handler(), CorruptOptions{Every: 1})
	same := func(name string, h http.Handler, tok, ep, fields, body string) {
		t.Helper()
		a := serve(t, s.Handler(), tok, ep, fields, body)
		b := serve(t, h, tok, ep, fields, body)
		strip := func(r *httptest.ResponseRecorder) string {
			var env map[string]any
			if json.Unmarshal(r.Body.Bytes(), &env) != nil {
				return r.Body.String()
			}
			if d, ok := env["data"].(map[string]any); ok {
				delete(d, "search_id")
			}
			if e, ok := env["error"].(map[string]any); ok {
				delete(e, "log_id")
			}
			out, _ := json.Marshal(env)
			return string(out)
		}
		if a.Code != b.Code || strip(a) != strip(b) {
			t.Errorf("%s: changed: %d %.200s / %d %.200s", name, a.Code, a.Body, b.Code, b.Body)
		}
	}
	q := corruptCalls[0]
	same("400 invalid_params", all, tok, q.ep, "ad.bogus", q.body)
	same("401", all, "clt.not-a-token", q.ep, q.fields, q.body)
	same("endpoint left out", Corrupt(s.Handler(), CorruptOptions{Every: 1, Endpoints: []string{EndpointAdDetail}}), tok, q.ep, q.fields, q.body)
	a := corruptCalls[1]
	same("no place for the form", Corrupt(s.Handler(), CorruptOptions{Every: 1, Forms: []Form{FormReachNaN, FormBadDate}}), tok, a.ep, a.fields, a.body)

	req := httptest.NewRequest(http.MethodPost, TokenPath, strings.NewReader("grant_type=client_credentials&client_key="+DefaultClientKey+"&client_secret="+DefaultClientSecret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	all.ServeHTTP(rec, req)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "access_token") {
		t.Errorf("token endpoint: %d %s", rec.Code, rec.Body)
	}

	// A truncated body is not JSON: it passes through as sent, Content-Length included.
	s.SetFaults(Faults{Truncated: 1, Seed: 3})
	for i := 0; i < 4; i++ {
		rec := serve(t, all, tok, q.ep, q.fields, q.body)
		if json.Valid(rec.Body.Bytes()) {
			t.Fatalf("truncated body came out valid: %.100s", rec.Body)
		}
	}
	s.SetFaults(Faults{})
}

// TestPickIsStable: Pick depends on options, endpoint and key only, spreads
// over roughly one item in Every, and uses only forms that fit the place.
func TestPickIsStable(t *testing.T) {
	o := CorruptOptions{Seed: 1, Every: 4}
	n := 0
	for i := 0; i < 4000; i++ {
		key := strconv.Itoa(7300000000000000000 + i)
		f, ok := o.Pick(EndpointAdvertiser, key)
		f2, ok2 := o.Pick(EndpointAdvertiser, key)
		if f != f2 || ok != ok2 {
			t.Fatal("Pick is not a function")
		}
		if ok {
			n++
			if !f.isID() && f != FormObjectText {
				t.Fatalf("advertiser/query got %s", f)
			}
		}
	}
	if n < 800 || n > 1200 {
		t.Errorf("%d of 4000 picked with Every 4", n)
	}
	if f, ok := (CorruptOptions{Every: 1}).Pick(EndpointAdReport, "IT"); !ok || f != FormBadCountry {
		t.Errorf("report series: %s %v", f, ok)
	}
	if f, ok := (CorruptOptions{Every: 1, Forms: []Form{FormZeroID}}).Pick(EndpointAdReport, "IT/20240101"); ok {
		t.Errorf("a zero count is legitimate, yet %s was picked", f)
	}
	for _, f := range AllForms {
		if f.Rejected() == strings.HasPrefix(string(f), "reach-") {
			t.Errorf("%s: Rejected() = %v", f, f.Rejected())
		}
	}
}
