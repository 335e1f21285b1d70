package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"adharvest/tiktok/api"
	"adharvest/tiktok/apitest"
)

// sameAs checks one response through both paths: the fast path must answer
// when want says it should (a page without rejects), and whenever it answers
// it must answer what the slow path does.
func sameAs[T any](t *testing.T, what string, in []byte, fast func([]byte) (T, bool), slow func(json.RawMessage) (T, error), want bool) T {
	t.Helper()
	got, ok := fast(in)
	ref, err := slow(in)
	switch {
	case err != nil:
		t.Fatalf("%s: %v", what, err)
	case ok != want:
		t.Fatalf("%s: fast path taken %v, want %v: %.300s", what, ok, want, in)
	case ok && !reflect.DeepEqual(got, ref):
		t.Fatalf("%s: fast and slow paths differ: %.300s", what, in)
	}
	return ref
}

// TestFastPathOnTheFake harvests the fake API as a harvest meets it
// (apitest.Realistic: live forms, the documentation's quirks, each page
// drawing its own spellings) and then through Corrupt: every clean page
// goes through the fast path with the slow path's result, and every page
// that holds a reject goes to the slow path.
func TestFastPathOnTheFake(t *testing.T) {
	now := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	opts := apitest.Realistic(0)
	opts.Seed = 5
	opts.Now = func() time.Time { return now }
	srv := apitest.New(opts)
	tok := srv.IssueToken()
	spoilt := apitest.Corrupt(srv.Handler(), apitest.CorruptOptions{Seed: 3, Every: 40})
	call := func(h http.Handler, ep string, body map[string]any) []byte {
		t.Helper()
		b, _ := json.Marshal(body)
		req := httptest.NewRequest(http.MethodPost, apitest.DataPathBase+ep+"/?fields="+strings.Join(api.RequiredFieldNames(ep), ","), strings.NewReader(string(b)))
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.Bytes()
	}
	data := func(what string, body []byte) []byte {
		t.Helper()
		env := sameAs(t, what+" envelope", body, api.FastEnvelope, func(b json.RawMessage) (api.Envelope, error) { return api.SlowEnvelope(b) }, true)
		if env.Error.Code != "ok" {
			t.Fatalf("%s: %+v", what, env.Error)
		}
		return env.Data
	}
	week := map[string]any{"min": "20250106", "max": "20250112"}
	pages, ads, details, spoiltPages := 0, 0, 0, 0
	for _, h := range []http.Handler{srv.Handler(), spoilt} {
		for _, cc := range []string{"DE", "FR", "IT", "PL", "AT", "IE"} {
			body := map[string]any{"filters": map[string]any{"ad_published_date_range": week, "country_code": cc}, "max_count": 50}
			for range 8 {
				raw := call(h, api.EndpointAdQuery, body)
				d := data("ad/query "+cc, raw)
				ref, _ := api.SlowAdQuery(d)
				p := sameAs(t, "ad/query "+cc, d, api.FastAdQuery, api.SlowAdQuery, len(ref.Rejects) == 0)
				pages++
				ads += len(p.Ads)
				if len(p.Rejects) > 0 {
					spoiltPages++
				}
				for _, a := range p.Ads[:min(2, len(p.Ads))] {
					dd := data("ad/detail", call(h, api.EndpointAdDetail, map[string]any{"ad_id": strconv.FormatInt(a.Ad.ID.V, 10)}))
					ref, _ := api.SlowAdDetail(dd)
					sameAs(t, "ad/detail", dd, api.FastAdDetail, api.SlowAdDetail, ref.OK)
					details++
				}
				if !p.HasMore.V {
					break
				}
				body["search_id"] = p.SearchID
			}
			cd := data("commercial_content/query", call(h, api.EndpointCommercialContent, map[string]any{
				"filters": map[string]any{"content_published_date_range": week, "creator_country_code": cc}, "max_count": 50}))
			cref, _ := api.SlowCommercialContent(cd)
			sameAs(t, "commercial_content/query "+cc, cd, api.FastCommercialContent, api.SlowCommercialContent, len(cref.Rejects) == 0)
		}
		ad := data("advertiser/query", call(h, api.EndpointAdvertiserQuery, map[string]any{"search_term": "co", "max_count": 50}))
		aref, _ := api.SlowAdvertiserQuery(ad)
		sameAs(t, "advertiser/query", ad, api.FastAdvertiserQuery, api.SlowAdvertiserQuery, len(aref.Rejects) == 0)
		rd := data("ad/report", call(h, api.EndpointAdReport, map[string]any{
			"filters": map[string]any{"ad_published_date_range": week, "country_code": "ALL"}}))
		rref, _ := api.SlowAdReport(rd)
		sameAs(t, "ad/report", rd, api.FastAdReport, api.SlowAdReport, len(rref.Rejects) == 0)
	}
	if spoiltPages == 0 || pages < 40 {
		t.Fatalf("%d pages, %d of them with rejects: the test lost its point", pages, spoiltPages)
	}
	t.Logf("%d ad/query pages (%d ads, %d with rejects), %d details", pages, ads, spoiltPages, details)
}
