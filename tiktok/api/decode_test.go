package api

import (
	"encoding/json"
	"os"
	"path/filepath"
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
