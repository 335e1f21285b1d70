package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"adharvest/tiktok/api"
	"adharvest/tiktok/apitest"
)

// TestHarvestThroughCorrupt harvests the fake API through apitest.Corrupt and
// checks the item-level decoders end to end: every item Corrupt spoilt with a
// rejecting form is one reject, every other item arrives exactly as it does
// without Corrupt, and an unreadable reach keeps its item and text with NULL
// bounds. The expectations come from CorruptOptions.Pick alone, as an
// end-to-end harvest test would compute them.
func TestHarvestThroughCorrupt(t *testing.T) {
	now := time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)
	srv := apitest.New(apitest.Options{Now: func() time.Time { return now }, Quirks: true, Density: 6})
	tok := srv.IssueToken()
	opts := apitest.CorruptOptions{Seed: 11, Every: 2}
	spoilt := apitest.Corrupt(srv.Handler(), opts)
	call := func(h http.Handler, ep string, fields []string, body string) json.RawMessage {
		t.Helper()
		req := httptest.NewRequest(http.MethodPost, apitest.DataPathBase+ep+"/?fields="+strings.Join(fields, ","), strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		env, err := api.DecodeEnvelope(rec.Body.Bytes())
		if err != nil || env.Error.Code != "ok" {
			t.Fatalf("%s: %v %+v", ep, err, env.Error)
		}
		return env.Data
	}
	// Only the fields every version of the fake takes.
	adFields := []string{"ad.id", "ad.first_shown_date", "ad.last_shown_date", "ad.status", "ad.reach", "advertiser.business_id", "advertiser.business_name"}
	rejectsWanted := func(picks map[string]apitest.Form) int {
		n := 0
		for _, f := range picks {
			if f.Rejected() {
				n++
			}
		}
		return n
	}

	t.Run("ad/query", func(t *testing.T) {
		body := `{"filters":{"ad_published_date_range":{"min":"20240101","max":"20240110"},"country_code":"FR"},"max_count":50}`
		clean, err := api.DecodeAdQuery(call(srv.Handler(), api.EndpointAdQuery, adFields, body))
		if err != nil || len(clean.Rejects) != 0 || len(clean.Ads) < 10 {
			t.Fatalf("clean page: %d ads, %v, %v", len(clean.Ads), clean.Rejects, err)
		}
		p, err := api.DecodeAdQuery(call(spoilt, api.EndpointAdQuery, adFields, body))
		if err != nil {
			t.Fatal(err)
		}
		picks := map[string]apitest.Form{}
		var want []api.AdDTO
		for _, a := range clean.Ads {
			key := strconv.FormatInt(a.Ad.ID.V, 10)
			f, ok := opts.Pick(apitest.EndpointAdQuery, key)
			if ok {
				picks[key] = f
			}
			if !ok || !f.Rejected() {
				want = append(want, a)
			}
		}
		if len(p.Rejects) != rejectsWanted(picks) || len(p.Ads) != len(want) || rejectsWanted(picks) == 0 {
			t.Fatalf("%d ads %d rejects; want %d ads %d rejects", len(p.Ads), len(p.Rejects), len(want), rejectsWanted(picks))
		}
		reach := 0
		for i, a := range p.Ads {
			w := want[i]
			if f, ok := picks[strconv.FormatInt(w.Ad.ID.V, 10)]; ok {
				reach++
				b := api.ParseBounds(string(a.Ad.Reach.UniqueUsersSeen))
				if a.Ad.Reach.UniqueUsersSeen == "" || b.Lower != nil || b.Upper != nil {
					t.Errorf("ad %d (%s): reach %q bounds %v %v", a.Ad.ID.V, f, a.Ad.Reach.UniqueUsersSeen, b.Lower, b.Upper)
				}
				w.Ad.Reach = a.Ad.Reach
			}
			if a.Ad.ID != w.Ad.ID || a.Ad.Status != w.Ad.Status || a.Ad.FirstShownDate != w.Ad.FirstShownDate ||
				a.Advertiser.BusinessID != w.Advertiser.BusinessID || a.Ad.Reach.UniqueUsersSeen != w.Ad.Reach.UniqueUsersSeen {
				t.Errorf("ad %d arrived as %+v, want %+v", w.Ad.ID.V, a, w)
			}
		}
		t.Logf("%d ads: %d rejected, %d with unreadable reach", len(clean.Ads), len(p.Rejects), reach)
	})

	t.Run("advertiser/query", func(t *testing.T) {
		fields := []string{"business_id", "business_name", "country_code"}
		body := `{"search_term":"co","max_count":50}`
		clean, err := api.DecodeAdvertiserQuery(call(srv.Handler(), api.EndpointAdvertiserQuery, fields, body))
		if err != nil || len(clean.Advertisers) < 4 {
			t.Fatalf("%+v %v", clean, err)
		}
		p, err := api.DecodeAdvertiserQuery(call(spoilt, api.EndpointAdvertiserQuery, fields, body))
		if err != nil {
			t.Fatal(err)
		}
		picks := map[string]apitest.Form{}
		for _, a := range clean.Advertisers {
			if f, ok := opts.Pick(apitest.EndpointAdvertiser, strconv.FormatInt(a.BusinessID.V, 10)); ok {
				picks[strconv.FormatInt(a.BusinessID.V, 10)] = f
			}
		}
		if len(p.Rejects) != len(picks) || len(p.Advertisers)+len(picks) != len(clean.Advertisers) {
			t.Fatalf("%d good %d rejects of %d; %d picked", len(p.Advertisers), len(p.Rejects), len(clean.Advertisers), len(picks))
		}
	})

	t.Run("commercial_content/query", func(t *testing.T) {
		fields := []string{"id", "create_date", "label", "creator", "videos"}
		body := `{"filters":{"content_published_date_range":{"min":"20240101","max":"20240110"},"creator_country_code":"FR"},"max_count":50}`
		clean, err := api.DecodeCommercialContent(call(srv.Handler(), api.EndpointCommercialContent, fields, body))
		if err != nil || len(clean.CommercialContents) < 4 {
			t.Fatalf("%d %v", len(clean.CommercialContents), err)
		}
		p, err := api.DecodeCommercialContent(call(spoilt, api.EndpointCommercialContent, fields, body))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, c := range clean.CommercialContents {
			if _, ok := opts.Pick(apitest.EndpointContent, string(c.ID)); ok {
				n++
			}
		}
		if len(p.Rejects) != n || len(p.CommercialContents)+n != len(clean.CommercialContents) {
			t.Fatalf("%d good %d rejects of %d; %d picked", len(p.CommercialContents), len(p.Rejects), len(clean.CommercialContents), n)
		}
	})

	t.Run("ad/report", func(t *testing.T) {
		body := `{"filters":{"ad_published_date_range":{"min":"20240101","max":"20240110"},"country_code":"ALL"}}`
		clean, err := api.DecodeAdReport(call(srv.Handler(), api.EndpointAdReport, api.AdReportFields, body))
		if err != nil || clean.Count() < 20 {
			t.Fatalf("%d %v", clean.Count(), err)
		}
		p, err := api.DecodeAdReport(call(spoilt, api.EndpointAdReport, api.AdReportFields, body))
		if err != nil {
			t.Fatal(err)
		}
		wantGood, wantRejects := 0, 0
		for cc, s := range clean.Series {
			if _, ok := opts.Pick(apitest.EndpointAdReport, cc); ok {
				wantRejects++ // the renamed series is one reject
				continue
			}
			for _, d := range s {
				if _, ok := opts.Pick(apitest.EndpointAdReport, cc+"/"+d.Date.T.Format("20060102")); ok {
					wantRejects++
				} else {
					wantGood++
				}
			}
		}
		if p.Count() != wantGood || len(p.Rejects) != wantRejects {
			t.Fatalf("%d good %d rejects; want %d and %d", p.Count(), len(p.Rejects), wantGood, wantRejects)
		}
	})

	t.Run("ad/detail", func(t *testing.T) {
		q, _ := api.DecodeAdQuery(call(srv.Handler(), api.EndpointAdQuery, adFields,
			`{"filters":{"ad_published_date_range":{"min":"20240101","max":"20240110"},"country_code":"FR"},"max_count":5}`))
		fields := []string{"ad.id", "ad.status", "ad.reach", "ad.first_shown_date", "advertiser.business_id", "ad_group.targeting_info"}
		for _, form := range apitest.AllForms {
			one := apitest.Corrupt(srv.Handler(), apitest.CorruptOptions{Every: 1, Forms: []apitest.Form{form}})
			for _, a := range q.Ads {
				p, err := api.DecodeAdDetail(call(one, api.EndpointAdDetail, fields, `{"ad_id":`+strconv.FormatInt(a.Ad.ID.V, 10)+`}`))
				switch {
				case err != nil:
					t.Fatalf("%s: %v", form, err)
				case form == apitest.FormBadCountry: // no place in ad/detail
					if !p.OK {
						t.Errorf("%s: %+v", form, p.Reject)
					}
				case form.Rejected():
					if p.OK || p.Reject == nil {
						t.Errorf("%s: ad %d decoded", form, a.Ad.ID.V)
					}
				default:
					tg := p.Detail.AdGroup.Targeting
					if !p.OK || tg == nil {
						t.Fatalf("%s: %+v", form, p.Reject)
					}
					for _, text := range []string{string(p.Detail.Ad.Reach.UniqueUsersSeen), string(tg.NumberOfUsersTargeted)} {
						if b := api.ParseBounds(text); text == "" || b.Lower != nil || b.Upper != nil {
							t.Errorf("%s: %q has bounds", form, text)
						}
					}
				}
			}
		}
	})
}
