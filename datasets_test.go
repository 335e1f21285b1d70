package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"adharvest/queries"
	"adharvest/tiktok/apitest"
)

// End-to-end tests of the five datasets: harvest through the command line
// against the fake API, read back through the DuckDB views, and compare with
// what the fake API's universe says a complete harvest must hold.

const (
	dsFrom  = "2024-01-01"
	dsTo    = "2024-01-21"
	dsTerm  = "coffee"
	dsAll   = "ads,ad-details,ad-reports,commercial-content,advertisers"
	dsNULL  = "NULL"
	dsLimit = 8 // mismatches reported per table before giving up
)

// dsWindow is one inclusive date window of a harvest.
type dsWindow struct{ from, to time.Time }

func dsDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// dsWindows splits [from, to] into windows of days starting at from, the last
// one cut at to: what the planner is documented to do.
func dsWindows(t *testing.T, from, to string, days int) []dsWindow {
	f, e := dsDay(t, from), dsDay(t, to)
	var out []dsWindow
	for d := f; !d.After(e); d = d.AddDate(0, 0, days) {
		end := d.AddDate(0, 0, days-1)
		if end.After(e) {
			end = e
		}
		out = append(out, dsWindow{d, end})
	}
	return out
}

// dsOpen opens the folder's DuckDB views for the rest of the test.
func dsOpen(t *testing.T, dir string) *sql.DB {
	t.Helper()
	eng, err := queries.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng.DB()
}

func dsInt(t *testing.T, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// dsCols is a select list that renders each column as text: scalars cast to
// VARCHAR (BIGINT as digits, DATE as YYYY-MM-DD, BOOLEAN as true/false).
func dsCols(cols ...string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf(`CAST(%q AS VARCHAR) AS %q`, c, c)
	}
	return strings.Join(parts, ", ")
}

// dsJSONCols renders list (and struct list) columns as JSON text.
func dsJSONCols(cols ...string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf(`CAST(to_json(%q) AS VARCHAR) AS %q`, c, c)
	}
	return strings.Join(parts, ", ")
}

// dsJ is the canonical JSON of an expectation. Columns read through dsJSONCols
// are decoded and re-encoded with it, so both sides compare as equal text.
func dsJ(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// dsTextRows runs query (every column already text) and returns each row as
// column -> text, dsNULL for SQL NULL. jsonCols hold JSON and are re-encoded
// with dsJ (numbers kept exact).
func dsTextRows(t *testing.T, db *sql.DB, query string, jsonCols ...string) []map[string]string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		m := make(map[string]string, len(cols))
		for i, c := range cols {
			if !vals[i].Valid {
				m[c] = dsNULL
				continue
			}
			m[c] = vals[i].String
			if slices.Contains(jsonCols, c) {
				dec := json.NewDecoder(strings.NewReader(vals[i].String))
				dec.UseNumber()
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Fatalf("column %s holds %q, not JSON: %v", c, vals[i].String, err)
				}
				m[c] = dsJ(v)
			}
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// dsCompare compares rows keyed by key against want (key -> column -> text),
// reporting missing and unexpected keys and every column that differs.
func dsCompare(t *testing.T, table string, want map[string]map[string]string, got []map[string]string, key func(map[string]string) string) {
	t.Helper()
	seen := map[string]bool{}
	var problems []string
	for _, g := range got {
		k := key(g)
		if seen[k] {
			problems = append(problems, fmt.Sprintf("%s: key %s appears twice", table, k))
			continue
		}
		seen[k] = true
		w, ok := want[k]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s: unexpected row %s", table, k))
			continue
		}
		cols := make([]string, 0, len(w))
		for c := range w {
			cols = append(cols, c)
		}
		sort.Strings(cols)
		for _, c := range cols {
			gv, ok := g[c]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: no column %s", table, c))
				continue
			}
			if gv != w[c] {
				problems = append(problems, fmt.Sprintf("%s %s: column %s = %q, want %q", table, k, c, gv, w[c]))
			}
		}
	}
	var missing []string
	for k := range want {
		if !seen[k] {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		problems = append(problems, fmt.Sprintf("%s: missing row %s", table, k))
	}
	for i, p := range problems {
		if i == dsLimit {
			t.Errorf("%s: … %d more differences", table, len(problems)-dsLimit)
			break
		}
		t.Error(p)
	}
}

// dsSet returns query's rows as "col1|col2|…" strings (columns already text).
func dsSet(t *testing.T, db *sql.DB, query string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range dsTextRows(t, db, query) {
		out[r["k"]] = true
	}
	return out
}

func dsDiffSets(t *testing.T, what string, want, got map[string]bool) {
	t.Helper()
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Errorf("%s differs from the API: %d missing (first %q), %d unexpected (first %q); want %d, got %d",
			what, len(missing), first(missing), len(extra), first(extra), len(want), len(got))
	}
}

// dsOpt is an optional text column: "" is absent, so NULL.
func dsOpt(s string) string {
	if s == "" {
		return dsNULL
	}
	return s
}

// dsClean is what the harvester stores for API text: NUL bytes removed.
func dsClean(s string) string { return strings.ReplaceAll(s, "\x00", "") }

func dsList(l []string) string {
	if l == nil {
		l = []string{}
	}
	return dsJ(l)
}

func dsI64(n int64) string { return strconv.FormatInt(n, 10) }

func dsDate(d time.Time) string { return d.UTC().Format("2006-01-02") }

// dsTypes returns DESCRIBE view: column -> type.
func dsTypes(t *testing.T, db *sql.DB, view string) map[string]string {
	t.Helper()
	rows, err := db.Query("DESCRIBE " + view)
	if err != nil {
		t.Fatalf("DESCRIBE %s: %v", view, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	out := map[string]string{}
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if _, dup := out[vals[0].String]; dup {
			t.Errorf("view %s has column %s twice", view, vals[0].String)
		}
		out[vals[0].String] = vals[1].String
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func dsHarvestArgs(dir string, extra ...string) []string {
	return append([]string{"harvest", "--out", dir, "--retry-base", "1ms", "--rps", "0", "--progress", "none"}, extra...)
}

// ---------------------------------------------------------------------------

func TestAllDatasetsEndToEnd(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts apitest.Options
	}{
		{name: "quirks", opts: apitest.Options{Quirks: true}},
		{name: "documented forms", opts: apitest.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := apitest.Start(tc.opts)
			defer srv.Close()
			setCreds(t, srv)
			u := srv.Universe()
			dir := filepath.Join(t.TempDir(), "out")
			code, _, stderr := runCLI(t, dsHarvestArgs(dir, "--datasets", dsAll, "--countries", "FR,DE,GB",
				"--from", dsFrom, "--to", dsTo, "--term", dsTerm)...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}

			t.Run("GB warning", func(t *testing.T) {
				const msg = "commercial-content skips GB"
				if n := strings.Count(stderr, msg); n != 1 {
					t.Fatalf("stderr names %q %d times, want once:\n%s", msg, n, stderr)
				}
				for _, line := range strings.Split(stderr, "\n") {
					if strings.Contains(line, msg) && !strings.HasPrefix(line, "adharvest: warning: ") {
						t.Errorf("warning line %q does not stand on its own line", line)
					}
				}
			})

			t.Run("ads", func(t *testing.T) {
				want := expectedAds(u, []string{"FR", "DE", "GB"}, dsFrom, dsTo, dsTerm)
				if len(want) == 0 {
					t.Fatal("the fake API returned no ads to compare")
				}
				diffKeys(t, want, harvestedAds(t, dir))
			})

			db := dsOpen(t, dir)

			t.Run("types", func(t *testing.T) { dsCheckTypes(t, db) })
			t.Run("ad_details", func(t *testing.T) { dsCheckDetails(t, db, u) })
			t.Run("ad_reports", func(t *testing.T) { dsCheckReports(t, db, u, []string{"FR", "DE", "GB"}, dsFrom, dsTo) })
			t.Run("commercial_content", func(t *testing.T) { dsCheckContent(t, db, u) })
			t.Run("advertisers", func(t *testing.T) { dsCheckAdvertisers(t, db, u) })
			t.Run("nasty cases exercised", func(t *testing.T) { dsCheckNasty(t, db) })
		})
	}
}

func dsCheckTypes(t *testing.T, db *sql.DB) {
	provenance := map[string]string{
		"search_term": "VARCHAR", "search_type": "VARCHAR", "window_start": "DATE", "window_end": "DATE",
		"fetched_at": "TIMESTAMP WITH TIME ZONE", "run_id": "VARCHAR", "shard_id": "VARCHAR",
	}
	list := "VARCHAR[]"
	for view, want := range map[string]map[string]string{
		"ads": {"ad_id": "BIGINT", "country_code": "VARCHAR", "business_id": "BIGINT", "first_shown_date": "DATE",
			"last_shown_date": "DATE", "video_urls": list, "image_urls": list},
		"ad_details": {"ad_id": "BIGINT", "business_id": "BIGINT", "first_shown_date": "DATE", "last_shown_date": "DATE",
			"video_urls": list, "image_urls": list, "follower_count": "BIGINT", "rejected": "BOOLEAN",
			"rejection_reasons": list, "rejection_country_codes": list},
		"ad_detail_reach_by_country": {"ad_id": "BIGINT", "country_code": "VARCHAR", "reach_text": "VARCHAR"},
		"ad_detail_target_countries": {"ad_id": "BIGINT", "country_code": "VARCHAR"},
		"ad_detail_target_ages":      {"ad_id": "BIGINT", "value": "VARCHAR", "targeted": "BOOLEAN"},
		"ad_detail_target_genders":   {"ad_id": "BIGINT", "value": "VARCHAR", "targeted": "BOOLEAN"},
		"ad_reports": {"query_country": "VARCHAR", "country_code": "VARCHAR", "date": "DATE", "count": "BIGINT",
			"advertiser_ids": "BIGINT[]"},
		"commercial_content": {"content_id": "VARCHAR", "country_code": "VARCHAR", "create_date": "DATE",
			"brand_names": list, "video_urls": list, "creator_username": "VARCHAR"},
		"advertisers": {"business_id": "BIGINT", "business_name": "VARCHAR"},
	} {
		for _, v := range []string{view, view + "_all"} {
			got := dsTypes(t, db, v)
			for col, typ := range want {
				if got[col] != typ {
					t.Errorf("%s.%s is %q, want %s", v, col, got[col], typ)
				}
			}
			for col, typ := range provenance {
				if got[col] != typ {
					t.Errorf("%s.%s (provenance) is %q, want %s", v, col, got[col], typ)
				}
			}
		}
	}
	videos := dsTypes(t, db, "commercial_content")["videos"]
	if !strings.HasPrefix(videos, "STRUCT(") || !strings.HasSuffix(videos, ")[]") ||
		!strings.Contains(videos, "id BIGINT") || !strings.Contains(videos, "url VARCHAR") {
		t.Errorf("commercial_content.videos is %q, want a STRUCT(id BIGINT, …, url VARCHAR, …)[] list", videos)
	}
}

// dsDetailWant is the ad_details row ad/detail must produce for a.
func dsDetailWant(a apitest.Ad) map[string]string {
	adv := a.Advertiser
	w := map[string]string{
		"ad_id":                      dsI64(a.ID),
		"business_id":                dsI64(adv.BusinessID),
		"business_name":              dsOpt(dsClean(adv.BusinessName)),
		"paid_for_by":                dsOpt(dsClean(adv.PaidForBy)),
		"advertiser_country_code":    dsOpt(adv.CountryCode),
		"follower_count":             dsNULL,
		"profile_url":                dsNULL,
		"avatar_url":                 dsNULL,
		"reach_text":                 dsNULL,
		"status":                     a.Status,
		"status_statement":           dsOpt(a.StatusStatement),
		"first_shown_date":           dsDate(a.FirstShown),
		"last_shown_date":            dsDate(a.LastShown),
		"image_urls":                 dsList(a.ImageURLs),
		"has_targeting":              "true",
		"users_targeted_text":        dsOpt(a.Targeting.NumberOfUsersTargeted),
		"audience_targeting":         dsOpt(a.Targeting.AudienceTargeting),
		"video_interactions":         dsOpt(a.Targeting.VideoInteractions),
		"creator_interactions":       dsOpt(a.Targeting.CreatorInteractions),
		"interest":                   dsOpt(a.Targeting.Interest),
		"rejected":                   "false",
		"rejection_reasons":          dsList(nil),
		"rejection_country_codes":    dsList(nil),
		"rejection_reporting_source": dsNULL,
		"rejection_automated_notice": dsNULL,
	}
	var urls []string
	for _, v := range a.Videos {
		urls = append(urls, v.URL)
	}
	w["video_urls"] = dsList(urls)
	if acc := adv.TikTok; acc != nil {
		w["follower_count"] = dsI64(acc.FollowerCount)
		w["profile_url"] = dsOpt(acc.ProfileURL)
		w["avatar_url"] = dsOpt(acc.AvatarURL)
	}
	if a.Reach != nil {
		w["reach_text"] = dsOpt(a.Reach.UniqueUsersSeen)
	}
	if r := a.Rejection; r != nil {
		w["rejected"] = "true"
		w["rejection_reasons"] = dsList(r.Reasons)
		w["rejection_country_codes"] = dsList(r.AffectedCountries)
		w["rejection_reporting_source"] = dsOpt(r.ReportingSource)
		if r.AutomatedNotice != nil {
			w["rejection_automated_notice"] = *r.AutomatedNotice
		}
	}
	return w
}

func dsCheckDetails(t *testing.T, db *sql.DB, u *apitest.Universe) {
	var ids []int64
	rows, err := db.Query(`SELECT DISTINCT ad_id FROM ads ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) == 0 {
		t.Fatal("ads is empty: nothing to detail")
	}

	want := map[string]map[string]string{}
	reach, targets, ages, genders := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	nuls := 0
	for _, id := range ids {
		a, ok := u.AdDetail(id)
		if !ok {
			t.Fatalf("ads holds ad %d, which the API does not know", id)
		}
		if strings.ContainsRune(a.Advertiser.BusinessName+a.Advertiser.PaidForBy, 0) {
			nuls++
		}
		want[dsI64(id)] = dsDetailWant(a)
		if a.Reach != nil {
			for c, text := range a.Reach.ByCountry {
				reach[fmt.Sprintf("%d|%s|%s", id, c, text)] = true
			}
		}
		for _, c := range a.Targeting.Countries {
			targets[fmt.Sprintf("%d|%s", id, c)] = true
		}
		for k, on := range a.Targeting.Age {
			ages[fmt.Sprintf("%d|%s|%t", id, k, on)] = true
		}
		for k, on := range a.Targeting.Gender {
			genders[fmt.Sprintf("%d|%s|%t", id, k, on)] = true
		}
	}

	got := dsTextRows(t, db, `SELECT `+dsCols("ad_id", "business_id", "business_name", "paid_for_by",
		"advertiser_country_code", "follower_count", "profile_url", "avatar_url", "reach_text", "status",
		"status_statement", "first_shown_date", "last_shown_date", "has_targeting", "users_targeted_text",
		"audience_targeting", "video_interactions", "creator_interactions", "interest", "rejected",
		"rejection_reporting_source", "rejection_automated_notice")+`, `+
		dsJSONCols("video_urls", "image_urls", "rejection_reasons", "rejection_country_codes")+
		` FROM ad_details`, "video_urls", "image_urls", "rejection_reasons", "rejection_country_codes")
	if nuls == 0 {
		t.Error("no detailed ad has a NUL byte in its advertiser's name: NUL stripping was not exercised")
	}
	t.Logf("comparing %d ad_details rows (%d with NUL bytes in names), %d reach, %d target country, %d age and %d gender rows",
		len(want), nuls, len(reach), len(targets), len(ages), len(genders))
	dsCompare(t, "ad_details", want, got, func(r map[string]string) string { return r["ad_id"] })

	dsDiffSets(t, "ad_detail_reach_by_country", reach, dsSet(t, db,
		`SELECT concat_ws('|', ad_id, country_code, reach_text) AS k FROM ad_detail_reach_by_country`))
	dsDiffSets(t, "ad_detail_target_countries", targets, dsSet(t, db,
		`SELECT concat_ws('|', ad_id, country_code) AS k FROM ad_detail_target_countries`))
	dsDiffSets(t, "ad_detail_target_ages", ages, dsSet(t, db,
		`SELECT concat_ws('|', ad_id, value, CAST(targeted AS VARCHAR)) AS k FROM ad_detail_target_ages`))
	dsDiffSets(t, "ad_detail_target_genders", genders, dsSet(t, db,
		`SELECT concat_ws('|', ad_id, value, CAST(targeted AS VARCHAR)) AS k FROM ad_detail_target_genders`))
}

// dsReportsWant is what ad/report answers for each query country over each
// window: "query_country|country_code|YYYY-MM-DD|count|window_start|window_end".
func dsReportsWant(t *testing.T, u *apitest.Universe, cs []string, from, to string) map[string]bool {
	want := map[string]bool{}
	for _, w := range dsWindows(t, from, to, 7) {
		for _, qc := range cs {
			for cc, days := range u.Report(qc, w.from, w.to, nil) {
				for d, n := range days {
					day, err := time.Parse("20060102", d)
					if err != nil {
						t.Fatalf("universe report date %q: %v", d, err)
					}
					want[fmt.Sprintf("%s|%s|%s|%d|%s|%s", qc, cc, dsDate(day), n, dsDate(w.from), dsDate(w.to))] = true
				}
			}
		}
	}
	return want
}

const dsReportsSQL = `SELECT concat_ws('|', query_country, country_code, CAST("date" AS VARCHAR), CAST("count" AS VARCHAR),
	CAST(window_start AS VARCHAR), CAST(window_end AS VARCHAR)) AS k FROM ad_reports`

func dsCheckReports(t *testing.T, db *sql.DB, u *apitest.Universe, cs []string, from, to string) {
	want := dsReportsWant(t, u, cs, from, to)
	if len(want) == 0 {
		t.Fatal("the fake API reported nothing to compare")
	}
	t.Logf("comparing %d ad_reports rows", len(want))
	dsDiffSets(t, "ad_reports", want, dsSet(t, db, dsReportsSQL))
	all := dsInt(t, db, `SELECT count(*) FROM ad_reports_all`)
	distinct := dsInt(t, db, `SELECT count(DISTINCT (query_country, country_code, "date")) FROM ad_reports_all`)
	if all != distinct {
		t.Errorf("ad_reports_all holds %d rows but %d distinct keys", all, distinct)
	}
	if n := dsInt(t, db, `SELECT count(*) FROM ad_reports WHERE NOT ("date" BETWEEN window_start AND window_end)`); n != 0 {
		t.Errorf("%d ad_reports rows lie outside their window_start..window_end", n)
	}
}

func dsCheckContent(t *testing.T, db *sql.DB, u *apitest.Universe) {
	want := map[string]map[string]string{}
	for _, c := range []string{"FR", "DE"} {
		for _, p := range u.CommercialContent(c, dsDay(t, dsFrom), dsDay(t, dsTo), nil) {
			urls := []string{}
			videos := []map[string]any{}
			for _, v := range p.Videos {
				urls = append(urls, v.URL)
				videos = append(videos, map[string]any{"id": json.Number(dsI64(v.ID)), "status": v.Status, "url": v.URL, "cover_image_url": v.CoverImageURL})
			}
			want[p.ID+"|"+c] = map[string]string{
				"content_id":       p.ID,
				"country_code":     c,
				"create_date":      dsDate(p.CreateDate),
				"create_epoch":     dsI64(p.CreateTimestamp),
				"label":            dsOpt(p.Label),
				"brand_names":      dsList(p.BrandNames),
				"creator_username": dsOpt(p.Creator),
				"video_urls":       dsList(urls),
				"videos":           dsJ(videos),
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("the fake API returned no commercial content to compare")
	}
	t.Logf("comparing %d commercial_content rows", len(want))
	got := dsTextRows(t, db, `SELECT `+dsCols("content_id", "country_code", "create_date", "label", "creator_username")+
		`, CAST(CAST(epoch(create_timestamp) AS BIGINT) AS VARCHAR) AS create_epoch, `+
		dsJSONCols("brand_names", "video_urls", "videos")+` FROM commercial_content`, "brand_names", "video_urls", "videos")
	dsCompare(t, "commercial_content", want, got, func(r map[string]string) string { return r["content_id"] + "|" + r["country_code"] })
	if n := dsInt(t, db, `SELECT count(*) FROM commercial_content_all WHERE country_code = 'GB'`); n != 0 {
		t.Errorf("commercial_content_all holds %d GB rows; the API serves no GB creators", n)
	}
	if n := dsInt(t, db, `SELECT count(*) FROM commercial_content WHERE NOT starts_with(content_id, 'v09044g40000')`); n != 0 {
		t.Errorf("%d content ids are not the API's string ids", n)
	}
}

func dsCheckAdvertisers(t *testing.T, db *sql.DB, u *apitest.Universe) {
	want := map[string]map[string]string{}
	for _, a := range u.Advertisers(dsTerm, 50) {
		want[dsI64(a.BusinessID)+"|"+dsTerm] = map[string]string{
			"business_id":   dsI64(a.BusinessID),
			"search_term":   dsTerm,
			"business_name": dsOpt(dsClean(a.BusinessName)),
			"country_code":  dsOpt(a.CountryCode),
		}
	}
	if len(want) == 0 {
		t.Fatal("the fake API has no advertiser matching the term")
	}
	t.Logf("comparing %d advertisers rows", len(want))
	got := dsTextRows(t, db, `SELECT `+dsCols("business_id", "search_term", "business_name", "country_code")+` FROM advertisers`)
	dsCompare(t, "advertisers", want, got, func(r map[string]string) string { return r["business_id"] + "|" + r["search_term"] })
}

// dsCheckNasty makes sure the comparison above covered the unpleasant cases.
func dsCheckNasty(t *testing.T, db *sql.DB) {
	for _, c := range []struct{ what, query string }{
		{"ad_details business_id above 2^53", `SELECT count(*) FROM ad_details WHERE business_id > 9007199254740992`},
		{"ad_details with an empty video_urls list", `SELECT count(*) FROM ad_details WHERE video_urls IS NOT NULL AND len(video_urls) = 0`},
		{"ad_details with follower_count NULL", `SELECT count(*) FROM ad_details WHERE follower_count IS NULL`},
		{"rejected ad", `SELECT count(*) FROM ad_details WHERE rejected`},
		{"commercial_content with an empty brand_names list", `SELECT count(*) FROM commercial_content WHERE brand_names IS NOT NULL AND len(brand_names) = 0`},
	} {
		if dsInt(t, db, c.query) == 0 {
			t.Errorf("no %s: the data did not exercise this case", c.what)
		}
	}
	rows, err := db.Query(`SELECT business_name FROM ad_details WHERE business_name IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	punct, nonASCII := 0, 0
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(s, ",\"\n") {
			punct++
		}
		if utf8.RuneCountInString(s) != len(s) {
			nonASCII++
		}
	}
	if punct+nonASCII == 0 {
		t.Error("no business_name with a comma, quote, newline or non-ASCII character")
	}
	t.Logf("business names with comma/quote/newline: %d, non-ASCII: %d", punct, nonASCII)
}

// ---------------------------------------------------------------------------

func TestDatasetUsageErrors(t *testing.T) {
	srv := apitest.Start(apitest.Options{})
	defer srv.Close()
	base := func(extra ...string) []string {
		return append([]string{"harvest", "--from", "2024-01-01", "--to", "2024-01-07", "--progress", "none"}, extra...)
	}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{name: "advertisers without --term", args: base("--datasets", "ads,advertisers", "--countries", "FR"), want: []string{"advertisers", "--term"}},
		{name: "commercial-content with only GB", args: base("--datasets", "commercial-content", "--countries", "GB"), want: []string{"commercial-content", "GB"}},
		{name: "ad-details without ads", args: base("--datasets", "ad-details", "--countries", "FR"), want: []string{"ad-details", "ads"}},
		{name: "negative detail budget", args: base("--datasets", "ads,ad-details", "--countries", "FR", "--detail-budget", "-1"), want: []string{"--detail-budget"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setCreds(t, srv)
			before := srv.Stats().DataRequests
			out := filepath.Join(t.TempDir(), "out")
			code, stdout, stderr := runCLI(t, append(tc.args, "--out", out)...)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %q", code, stderr)
			}
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("stderr %q: want exactly one line", stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not name %q", stderr, w)
				}
			}
			if stdout != "" {
				t.Errorf("stdout %q", stdout)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("bad input left %s behind", out)
			}
			if n := srv.Stats().DataRequests - before; n != 0 {
				t.Errorf("%d data requests spent on bad input", n)
			}
		})
	}
}

// ---------------------------------------------------------------------------

// dsDetailRequests returns how often each ad id was asked of ad/detail.
func dsDetailRequests(t *testing.T, srv *apitest.Server) map[int64]int {
	t.Helper()
	out := map[int64]int{}
	for _, r := range srv.Requests() {
		if r.Endpoint != apitest.EndpointAdDetail {
			continue
		}
		var body struct {
			AdID json.Number `json:"ad_id"`
		}
		dec := json.NewDecoder(bytes.NewReader(r.Body))
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			t.Fatalf("ad/detail request body %q: %v", r.Body, err)
		}
		id, err := strconv.ParseInt(body.AdID.String(), 10, 64)
		if err != nil {
			t.Fatalf("ad/detail request body %q: %v", r.Body, err)
		}
		out[id]++
	}
	return out
}

func dsIDSet(t *testing.T, db *sql.DB, query string) map[string]bool {
	t.Helper()
	return dsSet(t, db, "SELECT CAST(ad_id AS VARCHAR) AS k FROM ("+query+")")
}

func TestDetailBudgetAndOwed(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts apitest.Options
	}{
		{name: "fast API", opts: apitest.Options{Quirks: true}},
		// Every answer takes 30ms, so several ad/detail calls are always in
		// flight when the budget runs out, as on the live service.
		{name: "slow API", opts: apitest.Options{Quirks: true, Faults: apitest.Faults{Slow: 1, SlowDelay: 30 * time.Millisecond}}},
	} {
		t.Run(tc.name, func(t *testing.T) { dsDetailBudget(t, tc.opts) })
	}
}

// dsDetailBudget harvests one country and week with --detail-budget 5, checks
// that exactly the five newest ads were detailed, then resumes without a budget
// and checks that every ad is detailed once and none was asked twice.
func dsDetailBudget(t *testing.T, opts apitest.Options) {
	srv := apitest.Start(opts)
	defer srv.Close()
	setCreds(t, srv)
	u := srv.Universe()
	const from, to = "2024-01-01", "2024-01-07"
	dir := filepath.Join(t.TempDir(), "out")

	code, _, stderr := runCLI(t, dsHarvestArgs(dir, "--datasets", "ads,ad-details", "--countries", "FR",
		"--from", from, "--to", to, "--detail-budget", "5")...)
	if code != 75 {
		t.Fatalf("exit %d, want 75 (stopped, resumable); stderr %s", code, stderr)
	}
	if low := strings.ToLower(stderr); !strings.Contains(low, "detail-budget") && !strings.Contains(low, "detail budget") {
		t.Errorf("stderr does not mention the detail budget:\n%s", stderr)
	}
	if n := srv.Stats().ByEndpoint[apitest.EndpointAdDetail]; n != 5 {
		t.Errorf("%d ad/detail requests reached the server, want exactly 5", n)
	}

	// The five are the newest ads: last shown, then first shown, then id, descending.
	ads := u.Ads(apitest.AdQuery{Country: "FR", From: dsDay(t, from), To: dsDay(t, to)})
	if len(ads) <= 5 {
		t.Fatalf("only %d ads in the week: the budget would not bite", len(ads))
	}
	sort.Slice(ads, func(i, j int) bool {
		a, b := ads[i], ads[j]
		if !a.LastShown.Equal(b.LastShown) {
			return a.LastShown.After(b.LastShown)
		}
		if !a.FirstShown.Equal(b.FirstShown) {
			return a.FirstShown.After(b.FirstShown)
		}
		return a.ID > b.ID
	})
	newest := map[string]bool{}
	for _, a := range ads[:5] {
		newest[dsI64(a.ID)] = true
	}
	asked := map[string]bool{}
	for id := range dsDetailRequests(t, srv) {
		asked[dsI64(id)] = true
	}
	codes := map[string]int{}
	for _, r := range srv.Requests() {
		if r.Endpoint == apitest.EndpointAdDetail {
			codes[fmt.Sprintf("%d %s", r.Status, r.Code)]++
		}
	}
	t.Logf("capped run: ad/detail answers by HTTP status and code: %v", codes)
	dsDiffSets(t, "the ads asked of ad/detail under --detail-budget 5 (vs the 5 newest)", newest, asked)
	func() {
		eng, err := queries.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		dsDiffSets(t, "ad_details after the capped run (vs the 5 newest)", newest, dsIDSet(t, eng.DB(), "SELECT ad_id FROM ad_details"))
	}()

	if code, _, stderr := runCLI(t, "status", "--out", dir); code != 0 {
		t.Fatalf("status: exit %d: %s", code, stderr)
	}

	adQueries := srv.Stats().ByEndpoint[apitest.EndpointAdQuery]
	code, _, stderr = runCLI(t, dsHarvestArgs(dir)...)
	if code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr)
	}
	st := srv.Stats()
	if st.ByEndpoint[apitest.EndpointAdQuery] != adQueries {
		t.Errorf("resume re-ran ad/query: %d requests more", st.ByEndpoint[apitest.EndpointAdQuery]-adQueries)
	}
	if st.ByEndpoint[apitest.EndpointAdDetail] != len(ads) {
		t.Errorf("%d ad/detail requests in total, want %d (one per distinct ad)", st.ByEndpoint[apitest.EndpointAdDetail], len(ads))
	}
	for id, n := range dsDetailRequests(t, srv) {
		if n != 1 {
			t.Errorf("ad/detail asked %d times for ad %d", n, id)
		}
	}
	db := dsOpen(t, dir)
	adIDs := dsIDSet(t, db, "SELECT DISTINCT ad_id FROM ads")
	if len(adIDs) != len(ads) {
		t.Errorf("ads holds %d distinct ads, the API %d", len(adIDs), len(ads))
	}
	dsDiffSets(t, "ad_details after the resume (vs the ads)", adIDs, dsIDSet(t, db, "SELECT ad_id FROM ad_details"))
	if all, distinct := dsInt(t, db, `SELECT count(*) FROM ad_details_all`), dsInt(t, db, `SELECT count(DISTINCT ad_id) FROM ad_details_all`); all != distinct {
		t.Errorf("ad_details_all holds %d rows for %d ads", all, distinct)
	}
}

// ---------------------------------------------------------------------------

func dsJobHash(t *testing.T, dir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		JobHash string `json:"job_hash"`
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	if m.JobHash == "" {
		t.Fatalf("%s/manifest.json has no job_hash", dir)
	}
	return m.JobHash
}

func dsWriteJob(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "job.yaml")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestJobFileMatchesFlags(t *testing.T) {
	srv := apitest.Start(apitest.Options{Quirks: true})
	defer srv.Close()
	setCreds(t, srv)
	u := srv.Universe()
	const from, to = "2024-01-01", "2024-01-14"

	t.Run("same job as flags", func(t *testing.T) {
		// An advertiser that publishes often, so the filtered shards hold rows.
		adv := u.AllAdvertisers()[0]
		user := u.CreatorsIn("FR")[0]
		job := dsWriteJob(t, fmt.Sprintf(`# the flags run below, as a job file
datasets: ads,ad-reports
window: 7d
max_count: 20
countries: [FR, DE]
from: %s
to: %s
terms: [%s]
search_type: exact_phrase
advertiser_ids: [%d]
creator_usernames: [%s]
reach_min: 1K
reach_max: 10M
`, from, to, dsTerm, adv.BusinessID, user))
		byJob := filepath.Join(t.TempDir(), "job")
		byFlags := filepath.Join(t.TempDir(), "flags")
		if code, _, stderr := runCLI(t, dsHarvestArgs(byJob, "--job", job)...); code != 0 {
			t.Fatalf("--job: exit %d: %s", code, stderr)
		}
		if code, _, stderr := runCLI(t, dsHarvestArgs(byFlags, "--datasets", "ads,ad-reports", "--window", "7d", "--max-count", "20",
			"--countries", "FR,DE", "--from", from, "--to", to, "--term", dsTerm, "--search-type", "exact_phrase",
			"--advertiser-id", dsI64(adv.BusinessID), "--creator-username", user, "--reach-min", "1K", "--reach-max", "10M")...); code != 0 {
			t.Fatalf("flags: exit %d: %s", code, stderr)
		}
		for _, table := range []string{"ads", "ad_reports"} {
			a, b := snapshot(t, byJob, table), snapshot(t, byFlags, table)
			if len(a) == 0 {
				t.Errorf("%s_all is empty: the comparison means nothing", table)
			}
			if strings.Join(a, "\n") != strings.Join(b, "\n") {
				t.Errorf("%s_all differs: %d rows from the job file, %d from flags", table, len(a), len(b))
			}
		}
		if a, b := dsJobHash(t, byJob), dsJobHash(t, byFlags); a != b {
			t.Errorf("manifest job_hash %s from the job file, %s from flags", a, b)
		}
	})

	t.Run("two queries", func(t *testing.T) {
		job := dsWriteJob(t, fmt.Sprintf(`datasets: [ads, ad-reports]
from: %s
to: %s
queries:
  - countries: FR
    terms: [%s]
  - countries: DE
`, from, to, dsTerm))
		dir := filepath.Join(t.TempDir(), "out")
		if code, _, stderr := runCLI(t, dsHarvestArgs(dir, "--job", job)...); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		want := expectedAds(u, []string{"FR"}, from, to, dsTerm)
		for k := range expectedAds(u, []string{"DE"}, from, to, "") {
			want[k] = true
		}
		diffKeys(t, want, harvestedAds(t, dir))

		db := dsOpen(t, dir)
		if n := dsInt(t, db, `SELECT count(*) FROM ads_all WHERE (country_code = 'FR' AND search_term <> ?) OR (country_code = 'DE' AND search_term <> '')`, dsTerm); n != 0 {
			t.Errorf("%d ads rows carry the other query's search_term", n)
		}
		reports := dsReportsWant(t, u, []string{"FR", "DE"}, from, to)
		dsDiffSets(t, "ad_reports", reports, dsSet(t, db, dsReportsSQL))
	})
}
