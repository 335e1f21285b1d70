package crawl_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/queries"
	"adharvest/tiktok/apitest"
)

// End-to-end tests of the five datasets: harvest with crawl.Run from the fake
// API, read back through the DuckDB views, and compare with what the fake
// API's universe says a complete harvest must hold.
//
// The tests of this package that drive crawl.Run run in parallel: each has
// its own fake API and folder, and none asserts how fast it runs.

const (
	firstDay   = "2024-01-01"
	lastDay    = "2024-01-21"
	searchTerm = "coffee"
	maxDiffs   = 8 // mismatches reported per table before giving up
)

// window is one inclusive date window of a harvest.
type window struct{ from, to time.Time }

func parseDay(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.Parse("2006-01-02", s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// windows splits [from, to] into windows of days starting at from, the last
// one cut at to: what the planner is documented to do.
func windows(t *testing.T, from, to string, days int) []window {
	f, e := parseDay(t, from), parseDay(t, to)
	var out []window
	for d := f; !d.After(e); d = d.AddDate(0, 0, days) {
		end := d.AddDate(0, 0, days-1)
		if end.After(e) {
			end = e
		}
		out = append(out, window{d, end})
	}
	return out
}

// textCols is a select list that renders each column as text: scalars cast to
// VARCHAR (BIGINT as digits, DATE as YYYY-MM-DD, BOOLEAN as true/false).
func textCols(cols ...string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf(`CAST(%q AS VARCHAR) AS %q`, c, c)
	}
	return strings.Join(parts, ", ")
}

// jsonCols renders list (and struct list) columns as JSON text.
func jsonCols(cols ...string) string {
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = fmt.Sprintf(`CAST(to_json(%q) AS VARCHAR) AS %q`, c, c)
	}
	return strings.Join(parts, ", ")
}

// compareRows compares rows keyed by key against want (key -> column -> text),
// reporting missing and unexpected keys and every column that differs.
func compareRows(t *testing.T, table string, want map[string]map[string]string, got []map[string]string, key func(map[string]string) string) {
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
		if i == maxDiffs {
			t.Errorf("%s: … %d more differences", table, len(problems)-maxDiffs)
			break
		}
		t.Error(p)
	}
}

// opt is an optional text column: "" is absent, so NULL.
func opt(s string) string {
	if s == "" {
		return testkit.NULL
	}
	return s
}

// clean is what the harvester stores for API text: NUL bytes removed.
func clean(s string) string { return strings.ReplaceAll(s, "\x00", "") }

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	return testkit.JSON(l)
}

func i64(n int64) string { return strconv.FormatInt(n, 10) }

func date(d time.Time) string { return d.UTC().Format("2006-01-02") }

// columnTypes returns DESCRIBE view: column -> type.
func columnTypes(t *testing.T, db *sql.DB, view string) map[string]string {
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

// ---------------------------------------------------------------------------

func TestAllDatasetsEndToEnd(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts apitest.Options
	}{
		{name: "quirks", opts: apitest.Options{Quirks: true}},
		{name: "documented forms", opts: apitest.Options{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := testkit.StartAPI(t, tc.opts)
			u := srv.Universe()
			dir := filepath.Join(t.TempDir(), "out")
			o := testkit.Options(srv, dir, &job.Job{Datasets: []string{job.Ads, job.AdDetails, job.AdReports, job.CommercialContent, job.Advertisers}, Queries: []job.Query{
				{Countries: []string{"FR", "DE", "GB"}, From: firstDay, To: lastDay, Terms: []string{searchTerm}},
			}})
			var warnings []string
			o.Warn = func(msg string) { warnings = append(warnings, msg) }
			if _, err := crawl.Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}

			// The command line prints each warning on a line of its own
			// (commands tests check the line); here, the warning is given
			// once and is one line.
			t.Run("GB warning", func(t *testing.T) {
				const msg = "commercial-content skips GB"
				all := strings.Join(warnings, "\n")
				if n := strings.Count(all, msg); n != 1 {
					t.Fatalf("warnings name %q %d times, want once:\n%s", msg, n, all)
				}
				for _, w := range warnings {
					if strings.Contains(w, msg) && strings.Contains(w, "\n") {
						t.Errorf("warning %q does not fit on its own line", w)
					}
				}
			})

			t.Run("ads", func(t *testing.T) {
				want := testkit.ExpectedAds(u, []string{"FR", "DE", "GB"}, firstDay, lastDay, searchTerm)
				if len(want) == 0 {
					t.Fatal("the fake API returned no ads to compare")
				}
				testkit.DiffAds(t, want, testkit.HarvestedAds(t, dir))
			})

			db := testkit.Open(t, dir)

			t.Run("types", func(t *testing.T) { checkTypes(t, db) })
			t.Run("ad_details", func(t *testing.T) { checkDetails(t, db, u) })
			t.Run("ad_reports", func(t *testing.T) { checkReports(t, db, u, []string{"FR", "DE", "GB"}, firstDay, lastDay) })
			t.Run("commercial_content", func(t *testing.T) { checkContent(t, db, u) })
			t.Run("advertisers", func(t *testing.T) { checkAdvertisers(t, db, u) })
			t.Run("nasty cases exercised", func(t *testing.T) { checkNasty(t, db) })
		})
	}
}

func checkTypes(t *testing.T, db *sql.DB) {
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
			got := columnTypes(t, db, v)
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
	videos := columnTypes(t, db, "commercial_content")["videos"]
	if !strings.HasPrefix(videos, "STRUCT(") || !strings.HasSuffix(videos, ")[]") ||
		!strings.Contains(videos, "id BIGINT") || !strings.Contains(videos, "url VARCHAR") {
		t.Errorf("commercial_content.videos is %q, want a STRUCT(id BIGINT, …, url VARCHAR, …)[] list", videos)
	}
}

// detailWant is the ad_details row ad/detail must produce for a.
func detailWant(a apitest.Ad) map[string]string {
	adv := a.Advertiser
	w := map[string]string{
		"ad_id":                      i64(a.ID),
		"business_id":                i64(adv.BusinessID),
		"business_name":              opt(clean(adv.BusinessName)),
		"paid_for_by":                opt(clean(adv.PaidForBy)),
		"advertiser_country_code":    opt(adv.CountryCode),
		"follower_count":             testkit.NULL,
		"profile_url":                testkit.NULL,
		"avatar_url":                 testkit.NULL,
		"reach_text":                 testkit.NULL,
		"status":                     a.Status,
		"status_statement":           opt(a.StatusStatement),
		"first_shown_date":           date(a.FirstShown),
		"last_shown_date":            date(a.LastShown),
		"image_urls":                 jsonList(a.ImageURLs),
		"has_targeting":              "true",
		"users_targeted_text":        opt(a.Targeting.NumberOfUsersTargeted),
		"audience_targeting":         opt(a.Targeting.AudienceTargeting),
		"video_interactions":         opt(a.Targeting.VideoInteractions),
		"creator_interactions":       opt(a.Targeting.CreatorInteractions),
		"interest":                   opt(a.Targeting.Interest),
		"rejected":                   "false",
		"rejection_reasons":          jsonList(nil),
		"rejection_country_codes":    jsonList(nil),
		"rejection_reporting_source": testkit.NULL,
		"rejection_automated_notice": testkit.NULL,
	}
	var urls []string
	for _, v := range a.Videos {
		urls = append(urls, v.URL)
	}
	w["video_urls"] = jsonList(urls)
	if acc := adv.TikTok; acc != nil {
		w["follower_count"] = i64(acc.FollowerCount)
		w["profile_url"] = opt(acc.ProfileURL)
		w["avatar_url"] = opt(acc.AvatarURL)
	}
	if a.Reach != nil {
		w["reach_text"] = opt(a.Reach.UniqueUsersSeen)
	}
	if r := a.Rejection; r != nil {
		w["rejected"] = "true"
		w["rejection_reasons"] = jsonList(r.Reasons)
		w["rejection_country_codes"] = jsonList(r.AffectedCountries)
		w["rejection_reporting_source"] = opt(r.ReportingSource)
		if r.AutomatedNotice != nil {
			w["rejection_automated_notice"] = *r.AutomatedNotice
		}
	}
	return w
}

func checkDetails(t *testing.T, db *sql.DB, u *apitest.Universe) {
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
		want[i64(id)] = detailWant(a)
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

	got := testkit.TextRows(t, db, `SELECT `+textCols("ad_id", "business_id", "business_name", "paid_for_by",
		"advertiser_country_code", "follower_count", "profile_url", "avatar_url", "reach_text", "status",
		"status_statement", "first_shown_date", "last_shown_date", "has_targeting", "users_targeted_text",
		"audience_targeting", "video_interactions", "creator_interactions", "interest", "rejected",
		"rejection_reporting_source", "rejection_automated_notice")+`, `+
		jsonCols("video_urls", "image_urls", "rejection_reasons", "rejection_country_codes")+
		` FROM ad_details`, "video_urls", "image_urls", "rejection_reasons", "rejection_country_codes")
	if nuls == 0 {
		t.Error("no detailed ad has a NUL byte in its advertiser's name: NUL stripping was not exercised")
	}
	t.Logf("comparing %d ad_details rows (%d with NUL bytes in names), %d reach, %d target country, %d age and %d gender rows",
		len(want), nuls, len(reach), len(targets), len(ages), len(genders))
	compareRows(t, "ad_details", want, got, func(r map[string]string) string { return r["ad_id"] })

	testkit.DiffSets(t, "ad_detail_reach_by_country", reach, testkit.Set(t, db,
		`SELECT concat_ws('|', ad_id, country_code, reach_text) AS k FROM ad_detail_reach_by_country`))
	testkit.DiffSets(t, "ad_detail_target_countries", targets, testkit.Set(t, db,
		`SELECT concat_ws('|', ad_id, country_code) AS k FROM ad_detail_target_countries`))
	testkit.DiffSets(t, "ad_detail_target_ages", ages, testkit.Set(t, db,
		`SELECT concat_ws('|', ad_id, value, CAST(targeted AS VARCHAR)) AS k FROM ad_detail_target_ages`))
	testkit.DiffSets(t, "ad_detail_target_genders", genders, testkit.Set(t, db,
		`SELECT concat_ws('|', ad_id, value, CAST(targeted AS VARCHAR)) AS k FROM ad_detail_target_genders`))
}

// reportsWant is what ad/report answers for each query country over each
// window: "query_country|country_code|YYYY-MM-DD|count|window_start|window_end".
// reportsWant is what ad_reports must hold: one report per country over the
// query's whole range (reports are asked once per range, not per window).
func reportsWant(t *testing.T, u *apitest.Universe, cs []string, from, to string) map[string]bool {
	want := map[string]bool{}
	for _, w := range []window{{parseDay(t, from), parseDay(t, to)}} {
		for _, qc := range cs {
			for cc, days := range u.Report(qc, w.from, w.to, nil) {
				for d, n := range days {
					day, err := time.Parse("20060102", d)
					if err != nil {
						t.Fatalf("universe report date %q: %v", d, err)
					}
					want[fmt.Sprintf("%s|%s|%s|%d|%s|%s", qc, cc, date(day), n, date(w.from), date(w.to))] = true
				}
			}
		}
	}
	return want
}

const reportsSQL = `SELECT concat_ws('|', query_country, country_code, CAST("date" AS VARCHAR), CAST("count" AS VARCHAR),
	CAST(window_start AS VARCHAR), CAST(window_end AS VARCHAR)) AS k FROM ad_reports`

func checkReports(t *testing.T, db *sql.DB, u *apitest.Universe, cs []string, from, to string) {
	want := reportsWant(t, u, cs, from, to)
	if len(want) == 0 {
		t.Fatal("the fake API reported nothing to compare")
	}
	t.Logf("comparing %d ad_reports rows", len(want))
	testkit.DiffSets(t, "ad_reports", want, testkit.Set(t, db, reportsSQL))
	all := testkit.Int(t, db, `SELECT count(*) FROM ad_reports_all`)
	distinct := testkit.Int(t, db, `SELECT count(DISTINCT (query_country, country_code, "date")) FROM ad_reports_all`)
	if all != distinct {
		t.Errorf("ad_reports_all holds %d rows but %d distinct keys", all, distinct)
	}
	if n := testkit.Int(t, db, `SELECT count(*) FROM ad_reports WHERE NOT ("date" BETWEEN window_start AND window_end)`); n != 0 {
		t.Errorf("%d ad_reports rows lie outside their window_start..window_end", n)
	}
}

func checkContent(t *testing.T, db *sql.DB, u *apitest.Universe) {
	want := map[string]map[string]string{}
	for _, c := range []string{"FR", "DE"} {
		for _, p := range u.CommercialContent(c, parseDay(t, firstDay), parseDay(t, lastDay), nil) {
			urls := []string{}
			videos := []map[string]any{}
			for _, v := range p.Videos {
				urls = append(urls, v.URL)
				videos = append(videos, map[string]any{"id": json.Number(i64(v.ID)), "status": v.Status, "url": v.URL, "cover_image_url": v.CoverImageURL})
			}
			want[p.ID+"|"+c] = map[string]string{
				"content_id":       p.ID,
				"country_code":     c,
				"create_date":      date(p.CreateDate),
				"create_epoch":     i64(p.CreateTimestamp),
				"label":            opt(p.Label),
				"brand_names":      jsonList(p.BrandNames),
				"creator_username": opt(p.Creator),
				"video_urls":       jsonList(urls),
				"videos":           testkit.JSON(videos),
			}
		}
	}
	if len(want) == 0 {
		t.Fatal("the fake API returned no commercial content to compare")
	}
	t.Logf("comparing %d commercial_content rows", len(want))
	got := testkit.TextRows(t, db, `SELECT `+textCols("content_id", "country_code", "create_date", "label", "creator_username")+
		`, CAST(CAST(epoch(create_timestamp) AS BIGINT) AS VARCHAR) AS create_epoch, `+
		jsonCols("brand_names", "video_urls", "videos")+` FROM commercial_content`, "brand_names", "video_urls", "videos")
	compareRows(t, "commercial_content", want, got, func(r map[string]string) string { return r["content_id"] + "|" + r["country_code"] })
	if n := testkit.Int(t, db, `SELECT count(*) FROM commercial_content_all WHERE country_code = 'GB'`); n != 0 {
		t.Errorf("commercial_content_all holds %d GB rows; the API serves no GB creators", n)
	}
	if n := testkit.Int(t, db, `SELECT count(*) FROM commercial_content WHERE NOT starts_with(content_id, 'v09044g40000')`); n != 0 {
		t.Errorf("%d content ids are not the API's string ids", n)
	}
}

func checkAdvertisers(t *testing.T, db *sql.DB, u *apitest.Universe) {
	want := map[string]map[string]string{}
	for _, a := range u.Advertisers(searchTerm, 50) {
		want[i64(a.BusinessID)+"|"+searchTerm] = map[string]string{
			"business_id":   i64(a.BusinessID),
			"search_term":   searchTerm,
			"business_name": opt(clean(a.BusinessName)),
			"country_code":  opt(a.CountryCode),
		}
	}
	if len(want) == 0 {
		t.Fatal("the fake API has no advertiser matching the term")
	}
	t.Logf("comparing %d advertisers rows", len(want))
	got := testkit.TextRows(t, db, `SELECT `+textCols("business_id", "search_term", "business_name", "country_code")+` FROM advertisers`)
	compareRows(t, "advertisers", want, got, func(r map[string]string) string { return r["business_id"] + "|" + r["search_term"] })
}

// checkNasty makes sure the comparison above covered the unpleasant cases.
func checkNasty(t *testing.T, db *sql.DB) {
	for _, c := range []struct{ what, query string }{
		{"ad_details business_id above 2^53", `SELECT count(*) FROM ad_details WHERE business_id > 9007199254740992`},
		{"ad_details with an empty video_urls list", `SELECT count(*) FROM ad_details WHERE video_urls IS NOT NULL AND len(video_urls) = 0`},
		{"ad_details with follower_count NULL", `SELECT count(*) FROM ad_details WHERE follower_count IS NULL`},
		{"rejected ad", `SELECT count(*) FROM ad_details WHERE rejected`},
		{"commercial_content with an empty brand_names list", `SELECT count(*) FROM commercial_content WHERE brand_names IS NOT NULL AND len(brand_names) = 0`},
	} {
		if testkit.Int(t, db, c.query) == 0 {
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

// detailRequests returns how often each ad id was asked of ad/detail.
func detailRequests(t *testing.T, srv *apitest.Server) map[int64]int {
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

func idSet(t *testing.T, db *sql.DB, query string) map[string]bool {
	t.Helper()
	return testkit.Set(t, db, "SELECT CAST(ad_id AS VARCHAR) AS k FROM ("+query+")")
}

func TestDetailBudgetAndOwed(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts apitest.Options
	}{
		{name: "fast API", opts: apitest.Options{Quirks: true}},
		// Every answer takes 30ms, so several ad/detail calls are always in
		// flight when the budget runs out, as on the live service.
		{name: "slow API", opts: apitest.Options{Quirks: true, Faults: apitest.Faults{Slow: 1, SlowDelay: 30 * time.Millisecond}}},
	} {
		t.Run(tc.name, func(t *testing.T) { detailBudget(t, tc.opts) })
	}
}

// detailBudget harvests one country and week with --detail-budget 5, checks
// that exactly the five newest ads were detailed, then resumes without a budget
// and checks that every ad is detailed once and none was asked twice.
func detailBudget(t *testing.T, opts apitest.Options) {
	srv := testkit.StartAPI(t, opts)
	u := srv.Universe()
	const from, to = "2024-01-01", "2024-01-07"
	dir := filepath.Join(t.TempDir(), "out")

	o := testkit.Options(srv, dir, &job.Job{Datasets: []string{job.Ads, job.AdDetails}, Queries: []job.Query{{Countries: []string{"FR"}, From: from, To: to}}})
	o.DetailBudget = 5
	_, err := crawl.Run(context.Background(), o)
	var se *crawl.StopError
	if !errors.As(err, &se) {
		t.Fatalf("%v, want a *crawl.StopError (exit 75: stopped, resumable)", err)
	}
	// The command line prints the reason on stderr.
	if low := strings.ToLower(se.Reason); !strings.Contains(low, "detail-budget") && !strings.Contains(low, "detail budget") {
		t.Errorf("the stop does not mention the detail budget: %s", se.Reason)
	}
	if n := srv.Stats().ByEndpoint[apitest.EndpointAdDetail]; n != 5 {
		t.Errorf("%d ad/detail requests reached the server, want exactly 5", n)
	}

	// The five are the newest ads: last shown, then first shown, then id, descending.
	ads := u.Ads(apitest.AdQuery{Country: "FR", From: parseDay(t, from), To: parseDay(t, to)})
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
		newest[i64(a.ID)] = true
	}
	asked := map[string]bool{}
	for id := range detailRequests(t, srv) {
		asked[i64(id)] = true
	}
	codes := map[string]int{}
	for _, r := range srv.Requests() {
		if r.Endpoint == apitest.EndpointAdDetail {
			codes[fmt.Sprintf("%d %s", r.Status, r.Code)]++
		}
	}
	t.Logf("capped run: ad/detail answers by HTTP status and code: %v", codes)
	testkit.DiffSets(t, "the ads asked of ad/detail under --detail-budget 5 (vs the 5 newest)", newest, asked)
	func() {
		eng, err := queries.Open(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		testkit.DiffSets(t, "ad_details after the capped run (vs the 5 newest)", newest, idSet(t, eng.DB(), "SELECT ad_id FROM ad_details"))
	}()

	// What status prints comes from crawl.ReadStatus, which must read the folder.
	if _, err := crawl.ReadStatus(dir, time.Now()); err != nil {
		t.Fatalf("status: %v", err)
	}

	adQueries := srv.Stats().ByEndpoint[apitest.EndpointAdQuery]
	if _, err := crawl.Run(context.Background(), testkit.Options(srv, dir, nil)); err != nil {
		t.Fatalf("resume: %v", err)
	}
	st := srv.Stats()
	if st.ByEndpoint[apitest.EndpointAdQuery] != adQueries {
		t.Errorf("resume re-ran ad/query: %d requests more", st.ByEndpoint[apitest.EndpointAdQuery]-adQueries)
	}
	if st.ByEndpoint[apitest.EndpointAdDetail] != len(ads) {
		t.Errorf("%d ad/detail requests in total, want %d (one per distinct ad)", st.ByEndpoint[apitest.EndpointAdDetail], len(ads))
	}
	for id, n := range detailRequests(t, srv) {
		if n != 1 {
			t.Errorf("ad/detail asked %d times for ad %d", n, id)
		}
	}
	db := testkit.Open(t, dir)
	adIDs := idSet(t, db, "SELECT DISTINCT ad_id FROM ads")
	if len(adIDs) != len(ads) {
		t.Errorf("ads holds %d distinct ads, the API %d", len(adIDs), len(ads))
	}
	testkit.DiffSets(t, "ad_details after the resume (vs the ads)", adIDs, idSet(t, db, "SELECT ad_id FROM ad_details"))
	if all, distinct := testkit.Int(t, db, `SELECT count(*) FROM ad_details_all`), testkit.Int(t, db, `SELECT count(DISTINCT ad_id) FROM ad_details_all`); all != distinct {
		t.Errorf("ad_details_all holds %d rows for %d ads", all, distinct)
	}
}

// ---------------------------------------------------------------------------

// TestJobFileWithTwoQueries harvests a job file of two queries: each country
// holds its own query's ads, under its own search_term, and the reports of both.
func TestJobFileWithTwoQueries(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	u := srv.Universe()
	const from, to = "2024-01-01", "2024-01-14"
	j, err := job.LoadFile(testkit.JobFile(t, fmt.Sprintf(`datasets: [ads, ad-reports]
from: %s
to: %s
queries:
  - countries: FR
    terms: [%s]
  - countries: DE
`, from, to, searchTerm)))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "out")
	testkit.Harvest(t, srv, dir, &j)
	want := testkit.ExpectedAds(u, []string{"FR"}, from, to, searchTerm)
	for k := range testkit.ExpectedAds(u, []string{"DE"}, from, to, "") {
		want[k] = true
	}
	testkit.DiffAds(t, want, testkit.HarvestedAds(t, dir))

	db := testkit.Open(t, dir)
	if n := testkit.Int(t, db, `SELECT count(*) FROM ads_all WHERE (country_code = 'FR' AND search_term <> ?) OR (country_code = 'DE' AND search_term <> '')`, searchTerm); n != 0 {
		t.Errorf("%d ads rows carry the other query's search_term", n)
	}
	reports := reportsWant(t, u, []string{"FR", "DE"}, from, to)
	testkit.DiffSets(t, "ad_reports", reports, testkit.Set(t, db, reportsSQL))
}
