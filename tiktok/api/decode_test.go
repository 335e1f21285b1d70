package api

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func load(t testing.TB, name string) []byte {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func decodeData[T any](t *testing.T, name string) T {
	t.Helper()
	env, err := DecodeEnvelope(load(t, name))
	if err != nil {
		t.Fatal(err)
	}
	if env.Error.Code != "ok" {
		t.Fatalf("code %q", env.Error.Code)
	}
	var d T
	if err := json.Unmarshal(env.Data, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestAdQueryDocExample(t *testing.T) {
	d := decodeData[AdQueryData](t, "ad_query_doc_example.json")
	if !d.HasMore.Set || !d.HasMore.V || d.SearchID != "2837438294054038" {
		t.Fatalf("paging = %+v", d.Page)
	}
	a := d.Ads[0]
	if a.Ad.ID.V != 1923845247192304 || a.Advertiser.BusinessID.V != 3847236290405 {
		t.Fatalf("ids %v %v", a.Ad.ID, a.Advertiser.BusinessID)
	}
	if a.Advertiser.PaidForBy != "Awe Co." || a.Ad.Reach.UniqueUsersSeen != "11K" {
		t.Fatalf("paid_by/unique_user_seen not accepted: %+v", a)
	}
	if got := a.Ad.FirstShownDate.T.Format("2006-01-02"); got != "2021-01-01" {
		t.Fatalf("first shown %s", got)
	}
	if len(a.Ad.VideoURLs()) != 2 || len(a.Ad.ImageURLs) != 1 {
		t.Fatalf("videos %v images %v", a.Ad.VideoURLs(), a.Ad.ImageURLs)
	}
}

func TestAdQueryLiveShapes(t *testing.T) {
	d := decodeData[AdQueryData](t, "ad_query_live.json")
	if !d.HasMore.Set || d.HasMore.V {
		t.Fatalf("has_more %+v", d.HasMore)
	}
	a := d.Ads[0]
	if a.Ad.ID.V != 7301234567890123456 {
		t.Fatalf("string id decoded as %d", a.Ad.ID.V)
	}
	if a.Advertiser.BusinessID.V != 7057157514558702338 {
		t.Fatalf("19-digit business id decoded as %d (float64 rounding?)", a.Advertiser.BusinessID.V)
	}
	if a.Advertiser.BusinessName != "7057157514558702338" {
		t.Fatalf("numeric business_name = %q", a.Advertiser.BusinessName)
	}
	if a.Advertiser.PaidForBy != "Café \"ZumHirsch\", GmbH\nBerlin" {
		t.Fatalf("paid_for_by = %q (NUL must be stripped, the rest kept)", a.Advertiser.PaidForBy)
	}
	if a.Ad.LastShownDate.T.Format("20060102") != "20240109" {
		t.Fatalf("dashed date %v", a.Ad.LastShownDate)
	}
	if a.Ad.ImageURLs == nil && len(a.Ad.ImageURLs) != 0 {
		t.Fatal("null image_urls")
	}
	b := ParseBounds(string(a.Ad.Reach.UniqueUsersSeen))
	if *b.Lower != 10_000 || *b.Upper != 100_000 {
		t.Fatalf("reach bounds %v %v", *b.Lower, *b.Upper)
	}
	if d.Ads[1].Advertiser.BusinessID.Valid || d.Ads[1].Ad.FirstShownDate.Valid {
		t.Fatal("missing optional fields must stay invalid")
	}
}

func TestAdDetailDocExample(t *testing.T) {
	d := decodeData[AdDetailData](t, "ad_detail_doc_example.json")
	if len(d.Ad.VideoURLs()) != 1 {
		t.Fatal("ad_videos not accepted")
	}
	if d.AdGroup.Targeting == nil {
		t.Fatal("target not accepted as targeting_info")
	}
	tg := d.AdGroup.Targeting
	ages, genders := tg.Ages(), tg.Genders()
	if len(ages) != 5 || ages[0].Key != "13-17" || len(genders) != 3 || genders[0].Key != "female" {
		t.Fatalf("swapped age/gender maps not untangled: ages %v genders %v", ages, genders)
	}
	if d.Ad.Reach.UniqueUsersSeenByCountry["GB"] != "18K" {
		t.Fatalf("by country %v", d.Ad.Reach.UniqueUsersSeenByCountry)
	}
	if d.Advertiser.TikTokAccount == nil || d.Advertiser.TikTokAccount.FollowerCount.V != 26374 {
		t.Fatal("tiktok_account")
	}
	if d.Ad.RejectionInfo == nil || len(d.Ad.RejectionInfo.AffectedCountries) != 2 {
		t.Fatal("rejection_info")
	}
}

func TestCommercialContentDocExample(t *testing.T) {
	d := decodeData[CommercialContentData](t, "commercial_content_doc_example.json")
	if len(d.CommercialContents) != 2 {
		t.Fatal(len(d.CommercialContents))
	}
	a, b := d.CommercialContents[0], d.CommercialContents[1]
	if a.ID != "v09044g40000ce6enu3c77u36l73sp20" || b.ID != "38267490502373" {
		t.Fatalf("ids %q %q", a.ID, b.ID)
	}
	if len(a.Videos) != 1 || len(b.Videos) != 1 || b.Videos[0].ID.V != 19384729204821234 {
		t.Fatalf("video/videos %+v %+v", a.Videos, b.Videos)
	}
	if a.Creator.Username != "joe1234567" || len(a.BrandNames) != 2 {
		t.Fatalf("%+v", a)
	}
}

func TestFlexDecoders(t *testing.T) {
	for _, tc := range []struct {
		in      string
		hasMore Bool
		bad     bool
	}{
		{in: `true`, hasMore: Bool{V: true, Set: true}},
		{in: `"true"`, hasMore: Bool{V: true, Set: true}},
		{in: `"false"`, hasMore: Bool{Set: true}},
		{in: `false`, hasMore: Bool{Set: true}},
		{in: `null`, hasMore: Bool{}},
		{in: `"yes please"`, bad: true},
	} {
		var b Bool
		err := json.Unmarshal([]byte(tc.in), &b)
		if (err != nil) != tc.bad || (!tc.bad && b != tc.hasMore) {
			t.Errorf("Bool(%s) = %+v, %v", tc.in, b, err)
		}
	}
	for in, want := range map[string]int64{`7057157514558702338`: 7057157514558702338, `"9223372036854775807"`: 9223372036854775807, `-5`: -5} {
		var n Int64
		if err := json.Unmarshal([]byte(in), &n); err != nil || n.V != want || !n.Valid {
			t.Errorf("Int64(%s) = %+v, %v", in, n, err)
		}
	}
	for _, bad := range []string{`1.5`, `"abc"`, `9223372036854775808`, `{}`} {
		var n Int64
		if err := json.Unmarshal([]byte(bad), &n); err == nil {
			t.Errorf("Int64(%s) accepted", bad)
		}
	}
	for in, want := range map[string]string{`20240101`: "2024-01-01", `"20240101"`: "2024-01-01", `"2024-01-01"`: "2024-01-01"} {
		var d Date
		if err := json.Unmarshal([]byte(in), &d); err != nil || d.T.Format("2006-01-02") != want {
			t.Errorf("Date(%s) = %v, %v", in, d, err)
		}
	}
	for _, empty := range []string{`null`, `""`, `0`} {
		var d Date
		if err := json.Unmarshal([]byte(empty), &d); err != nil || d.Valid {
			t.Errorf("Date(%s) = %v, %v", empty, d, err)
		}
	}
}

func TestParseBounds(t *testing.T) {
	p := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		in     string
		lo, hi *int64
	}{
		{"11K", p(11_000), p(11_000)},
		{"10K-100K", p(10_000), p(100_000)},
		{"1K - 10K", p(1_000), p(10_000)},
		{"100K-1M", p(100_000), p(1_000_000)},
		{"<1K", p(0), p(1_000)},
		{"1M+", p(1_000_000), nil},
		{">1B", p(1_000_000_000), nil},
		{"1.5M", p(1_500_000), p(1_500_000)},
		{"", nil, nil},
		{"lots", nil, nil},
	} {
		b := ParseBounds(tc.in)
		if !eqp(b.Lower, tc.lo) || !eqp(b.Upper, tc.hi) {
			t.Errorf("ParseBounds(%q) = %v-%v", tc.in, deref(b.Lower), deref(b.Upper))
		}
	}
}

func eqp(a, b *int64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func deref(a *int64) any {
	if a == nil {
		return nil
	}
	return *a
}

func TestValidation(t *testing.T) {
	base := func() AdQuery {
		return AdQuery{Filters: AdFilters{PublishedRange: DateRange{Min: "20240101", Max: "20240131"}}, MaxCount: 50}
	}
	for _, tc := range []struct {
		name  string
		mod   func(*AdQuery)
		field string
	}{
		{"ok", func(*AdQuery) {}, ""},
		{"before 2022-10-01", func(q *AdQuery) { q.Filters.PublishedRange.Min = "20220930" }, "from"},
		{"reversed", func(q *AdQuery) { q.Filters.PublishedRange.Max = "20231231" }, "to"},
		{"malformed", func(q *AdQuery) { q.Filters.PublishedRange.Min = "2024-13-01" }, "from"},
		{"term 51 chars", func(q *AdQuery) { q.SearchTerm = string(make([]byte, 51)) }, "term"},
		{"term 50 runes multibyte ok", func(q *AdQuery) {
			q.SearchTerm = "éééééééééééééééééééééééééééééééééééééééééééééééééé"
		}, ""},
		{"max_count 51", func(q *AdQuery) { q.MaxCount = 51 }, "max-count"},
		{"search type", func(q *AdQuery) { q.SearchType = "regex" }, "search-type"},
		{"size 2000K", func(q *AdQuery) { q.Filters.UniqueUsersSeen = &SizeRange{Min: "2000K"} }, "reach-min"},
		{"size 1.1M", func(q *AdQuery) { q.Filters.UniqueUsersSeen = &SizeRange{Max: "1.1M"} }, "reach-max"},
		{"size 1B2M", func(q *AdQuery) { q.Filters.UniqueUsersSeen = &SizeRange{Max: "1B2M"} }, "reach-max"},
		{"size max 0K", func(q *AdQuery) { q.Filters.UniqueUsersSeen = &SizeRange{Max: "0K"} }, "reach-max"},
		{"size ok", func(q *AdQuery) { q.Filters.UniqueUsersSeen = &SizeRange{Min: "0K", Max: "1B"} }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := base()
			tc.mod(&q)
			err := q.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			ie, ok := err.(*InvalidError)
			if !ok || ie.Field != tc.field {
				t.Fatalf("err = %v, want InvalidError on %s", err, tc.field)
			}
		})
	}
	if err := ValidateFields(AdQueryFields, []string{"ad.id", "ad.bogus"}); err == nil {
		t.Fatal("unknown field accepted")
	}
}

// TestLiveFormsAdQuery covers, field by field, forms seen in real ad/query
// data: a photo ad (videos: [] and 14 image_urls), image_urls: null on video
// ads, videos with cover_image_url, status_statement "N/A" on active ads,
// paid_for_by holding a 19-digit id that is not the business id, point and
// 0-1K reach, an ad with last_shown_date and no first_shown_date, and the
// 2026-09 fields present on one ad and absent (NULL) on the others.
func TestLiveFormsAdQuery(t *testing.T) {
	p, err := DecodeAdQuery(envData(t, "ad_query_live_forms.json"))
	if err != nil || len(p.Rejects) != 0 || len(p.Ads) != 3 {
		t.Fatalf("%d ads, rejects %+v, %v", len(p.Ads), p.Rejects, err)
	}
	photo, video, lastOnly := p.Ads[0], p.Ads[1], p.Ads[2]
	t.Run("photo ad", func(t *testing.T) {
		a := photo.Ad
		if a.Videos == nil && len(a.Videos) != 0 || len(a.VideoURLs()) != 0 {
			t.Errorf("videos %+v", a.Videos)
		}
		if len(a.ImageURLs) != 14 || len(slices.Compact(slices.Sorted(slices.Values(a.ImageURLs)))) != 14 {
			t.Errorf("image_urls %d (want 14 distinct): %v", len(a.ImageURLs), a.ImageURLs)
		}
		if !strings.Contains(a.ImageURLs[0], "&x-signature=") {
			t.Errorf("\\u0026 not decoded: %s", a.ImageURLs[0])
		}
	})
	t.Run("status_statement N/A on an active ad", func(t *testing.T) {
		for _, a := range []AdDTO{photo, video} {
			if a.Ad.Status != "active" || a.Ad.StatusStatement != "N/A" || *a.Ad.StatusStatement.Ptr() != "N/A" {
				t.Errorf("status %q statement %q", a.Ad.Status, a.Ad.StatusStatement)
			}
		}
	})
	t.Run("paid_for_by is a 19-digit id, not the business id", func(t *testing.T) {
		adv := photo.Advertiser
		if adv.PaidForBy != "7412345678901234567" || adv.BusinessID.V != 7057157514558702338 {
			t.Errorf("paid_for_by %q business %d", adv.PaidForBy, adv.BusinessID.V)
		}
		if lastOnly.Advertiser.BusinessName != "7057157514558702341" || lastOnly.Advertiser.PaidForBy != "7412345678901234568" {
			t.Errorf("numeric name / funder %+v", lastOnly.Advertiser)
		}
	})
	t.Run("video ad: image_urls null, cover_image_url", func(t *testing.T) {
		a := video.Ad
		if a.ImageURLs == nil || len(a.ImageURLs) != 0 {
			t.Errorf("image_urls null decoded as %#v, want an empty list", a.ImageURLs)
		}
		if len(a.Videos) != 2 || a.Videos[0].CoverImageURL != "https://p16-sign.tiktokcdn.com/cover/c1.jpeg?x-expires=1767225600" ||
			a.Videos[1].CoverImageURL.Ptr() != nil || len(a.VideoURLs()) != 2 {
			t.Errorf("videos %+v", a.Videos)
		}
		if lastOnly.Ad.Videos[0].CoverImageURL != "https://p16/cover/c3.jpeg" {
			t.Errorf("cover %+v", lastOnly.Ad.Videos)
		}
	})
	t.Run("reach forms", func(t *testing.T) {
		for i, want := range [][2]int64{{1_000, 10_000}, {47_000, 47_000}, {0, 1_000}} {
			b := ParseBounds(string(p.Ads[i].Ad.Reach.UniqueUsersSeen))
			if b.Lower == nil || b.Upper == nil || *b.Lower != want[0] || *b.Upper != want[1] {
				t.Errorf("ad %d reach %q = %v-%v", i, p.Ads[i].Ad.Reach.UniqueUsersSeen, deref(b.Lower), deref(b.Upper))
			}
		}
	})
	t.Run("last_shown_date without first_shown_date", func(t *testing.T) {
		a := lastOnly.Ad
		if a.FirstShownDate.Valid || a.FirstShownDate.Ptr() != nil || !a.LastShownDate.Valid || a.LastShownDate.T.Format("20060102") != "20250311" {
			t.Errorf("first %+v last %+v", a.FirstShownDate, a.LastShownDate)
		}
	})
	t.Run("2026-09 fields", func(t *testing.T) {
		a := photo.Ad
		got := []Text{a.Title, a.ExternalURL, a.DownloadURL, a.CallToAction, a.AdvertisingObjective}
		want := []Text{"Spring sale: 14 looks", "https://shop.example.eu/spring?utm_source=tiktok", "", "Shop now", "Traffic"}
		if !slices.Equal(got, want) {
			t.Errorf("newer fields %q, want %q", got, want)
		}
		if a.DownloadURL.Ptr() != nil {
			t.Error("download_url null must be NULL")
		}
		v := video.Ad
		for _, f := range []Text{v.Title, v.ExternalURL, v.DownloadURL, v.CallToAction, v.AdvertisingObjective} {
			if f.Ptr() != nil {
				t.Errorf("absent newer field decoded as %q", f)
			}
		}
	})
}

// TestLiveFormsAdDetail covers the ad/detail forms: per-country reach as point
// values (47K) and 0-1K, an audience range 4.9M-5.9M, age key 45-54 with false
// flags, gender other_genders, rejection_info with a null automated_notice,
// advertiser.country_code, cover_image_url, the 2026-09 fields, and a photo
// ad's detail.
func TestLiveFormsAdDetail(t *testing.T) {
	p, err := DecodeAdDetail(envData(t, "ad_detail_live_forms.json"))
	if err != nil || !p.OK {
		t.Fatalf("%+v %v", p.Reject, err)
	}
	d := p.Detail
	t.Run("per-country reach", func(t *testing.T) {
		want := map[string][2]int64{"DE": {47_000, 47_000}, "AT": {0, 1_000}, "IT": {1_000, 10_000}}
		if len(d.Ad.Reach.UniqueUsersSeenByCountry) != 3 {
			t.Fatalf("by country %v", d.Ad.Reach.UniqueUsersSeenByCountry)
		}
		for c, w := range want {
			b := ParseBounds(d.Ad.Reach.UniqueUsersSeenByCountry[c])
			if b.Lower == nil || *b.Lower != w[0] || *b.Upper != w[1] {
				t.Errorf("%s %q = %v-%v", c, d.Ad.Reach.UniqueUsersSeenByCountry[c], deref(b.Lower), deref(b.Upper))
			}
		}
	})
	tg := d.AdGroup.Targeting
	if tg == nil {
		t.Fatal("targeting_info")
	}
	t.Run("audience range 4.9M-5.9M", func(t *testing.T) {
		b := ParseBounds(string(tg.NumberOfUsersTargeted))
		if tg.NumberOfUsersTargeted != "4.9M-5.9M" || *b.Lower != 4_900_000 || *b.Upper != 5_900_000 {
			t.Errorf("%q = %v-%v", tg.NumberOfUsersTargeted, deref(b.Lower), deref(b.Upper))
		}
	})
	t.Run("ages with 45-54 and false flags", func(t *testing.T) {
		got := fmt.Sprint(tg.Ages())
		if want := "[{13-17 false} {18-24 true} {25-34 true} {35-44 true} {45-54 false} {55+ false}]"; got != want {
			t.Errorf("ages %s, want %s", got, want)
		}
	})
	t.Run("genders with other_genders", func(t *testing.T) {
		got := fmt.Sprint(tg.Genders())
		if want := "[{female true} {male true} {other_genders false}]"; got != want {
			t.Errorf("genders %s, want %s", got, want)
		}
	})
	t.Run("targeting texts", func(t *testing.T) {
		if !slices.Equal(tg.Country, []string{"DE", "AT"}) || tg.AudienceTargeting != "No" || tg.Interest != "Food & Drink, Travel" {
			t.Errorf("%+v", tg)
		}
	})
	t.Run("rejection_info", func(t *testing.T) {
		r := d.Ad.RejectionInfo
		if r == nil || len(r.Reasons) != 1 || !slices.Equal(r.AffectedCountries, []string{"Austria"}) ||
			r.ReportingSource == "" || r.AutomatedNotice.Ptr() != nil {
			t.Errorf("%+v", r)
		}
	})
	t.Run("advertiser country_code and funder id", func(t *testing.T) {
		a := d.Advertiser
		if a.CountryCode != "AT" || a.PaidForBy != "7412345678901234569" || a.BusinessID.V != 7057157514558702340 ||
			a.TikTokAccount == nil || a.TikTokAccount.FollowerCount.V != 26374 {
			t.Errorf("%+v", a)
		}
	})
	t.Run("cover_image_url and image_urls null", func(t *testing.T) {
		if len(d.Ad.Videos) != 1 || d.Ad.Videos[0].CoverImageURL == "" || d.Ad.ImageURLs == nil || len(d.Ad.ImageURLs) != 0 {
			t.Errorf("videos %+v images %#v", d.Ad.Videos, d.Ad.ImageURLs)
		}
	})
	t.Run("2026-09 fields", func(t *testing.T) {
		a := d.Ad
		got := []Text{a.Title, a.ExternalURL, a.DownloadURL, a.CallToAction, a.AdvertisingObjective}
		want := []Text{"Wiener Melange, jetzt neu", "https://kaffeehaus.example.at/neu", "https://apps.example/app/id123", "Learn more", "Reach"}
		if !slices.Equal(got, want) {
			t.Errorf("%q, want %q", got, want)
		}
	})
	t.Run("photo ad detail", func(t *testing.T) {
		p, err := DecodeAdDetail(envData(t, "ad_detail_photo.json"))
		if err != nil || !p.OK {
			t.Fatalf("%+v %v", p.Reject, err)
		}
		a := p.Detail.Ad
		if len(a.Videos) != 0 || len(a.ImageURLs) != 14 || a.StatusStatement != "N/A" {
			t.Errorf("videos %d images %d statement %q", len(a.Videos), len(a.ImageURLs), a.StatusStatement)
		}
		b := ParseBounds(a.Reach.UniqueUsersSeenByCountry["LU"])
		if *b.Lower != 0 || *b.Upper != 1_000 {
			t.Errorf("LU 0-1K = %v-%v", deref(b.Lower), deref(b.Upper))
		}
		ages := p.Detail.AdGroup.Targeting.Ages()
		if len(ages) != 5 || ages[3] != (KeyFlag{Key: "45-54", Enabled: false}) {
			t.Errorf("ages %v", ages)
		}
		if p.Detail.Advertiser.PaidForBy == Text(fmt.Sprint(p.Detail.Advertiser.BusinessID.V)) {
			t.Error("paid_for_by equals the business id in the test data")
		}
	})
}
