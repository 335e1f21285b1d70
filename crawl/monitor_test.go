package crawl_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"adharvest/crawl"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/tiktok/apitest"
)

// nightly is the monitoring set-up of these tests: a fake whose today moves,
// where ads appear a few hours after their day ends and 40% of them are
// taken down within three days of publication (so that every takedown
// happens while the ad's day is still provisional, and a nightly run
// re-reads it), and the cron job `harvest --out DIR --to yesterday`.
type nightly struct {
	clk    *apitest.Clock
	srv    *apitest.Server
	from   string
	cs     []string
	first  time.Time // the first night, 02:00 UTC
	nights int
}

func newNightly(t *testing.T, datasets ...string) *nightly {
	n := &nightly{first: time.Date(2024, 6, 10, 2, 0, 0, 0, time.UTC), from: "2024-05-25", cs: []string{"DE", "FR"}, nights: 3}
	n.clk = apitest.NewClock(n.first)
	n.srv = testkit.StartAPI(t, apitest.Options{Seed: 21, Density: 30, Now: n.clk.Now,
		Lifecycle: &apitest.Lifecycle{MaxPublishLatency: 6 * time.Hour, TakedownRate: 0.4, TakedownWithin: 3}})
	return n
}

func (n *nightly) job(datasets ...string) *job.Job {
	return &job.Job{Datasets: datasets, Queries: []job.Query{{Countries: n.cs, From: n.from, To: "yesterday"}}}
}

// run harvests into dir at the clock's time.
func (n *nightly) run(t *testing.T, dir string, j *job.Job) crawl.Result {
	t.Helper()
	o := testkit.Options(n.srv, dir, j)
	o.Now = n.clk.Now
	res, err := crawl.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("harvest at %s: %v", n.clk.Now().Format(time.RFC3339), err)
	}
	return res
}

// day is the UTC date of t.
func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// TestNightlyRunsEqualOneHarvest: three nightly runs of `--to yesterday`
// into one folder spend requests only on the new day and the days still
// provisional (exactly what those slices hold, page by page), end with the
// tables of one harvest of the whole period, and ad_history shows every
// takedown the fake made, at the run that first saw it.
func TestNightlyRunsEqualOneHarvest(t *testing.T) {
	t.Parallel()
	n := newNightly(t)
	u := n.srv.Universe()
	dir, ref := t.TempDir(), t.TempDir()
	var runs []crawl.Result
	for night := 0; night < n.nights; night++ {
		n.clk.Set(n.first.AddDate(0, 0, night))
		now := n.clk.Now()
		today := day(now)
		before := len(n.srv.Requests())
		j := n.job("ads", "ad-reports")
		if night > 0 {
			j = nil // the cron line after the first night: a plain resume
		}
		res := n.run(t, dir, j)
		runs = append(runs, res)
		if night == 0 {
			continue
		}
		// What the night had to fetch: the new day, and every day still
		// provisional, i.e. fetched last night less than 3 days after it.
		var wantPages, merged int
		var wantDays []string
		for d := today.AddDate(0, 0, -crawl.ProvisionalDays-1); d.Before(today); d = d.AddDate(0, 0, 1) {
			wantDays = append(wantDays, d.Format("20060102"))
			for _, c := range n.cs {
				ads := len(u.AdIDsAsOf(apitest.AdQuery{Country: c, From: d, To: d}, now))
				wantPages += max(1, (ads+49)/50)
			}
		}
		for _, c := range n.cs {
			// The least any client could spend: the same days as one
			// slice per country.
			ads := len(u.AdIDsAsOf(apitest.AdQuery{Country: c, From: today.AddDate(0, 0, -crawl.ProvisionalDays-1), To: today.AddDate(0, 0, -1)}, now))
			merged += max(1, (ads+49)/50)
		}
		var pages, reports int
		gotDays := map[string]bool{}
		for _, s := range sentSince(t, n.srv, before) {
			switch s.endpoint {
			case apitest.EndpointAdQuery:
				pages++
				if s.from != s.to {
					t.Errorf("night %d: ad/query over %s..%s, want one provisional day a slice", night+1, s.from, s.to)
				}
				gotDays[s.from] = true
			case apitest.EndpointAdReport:
				reports++
				if s.to < today.AddDate(0, 0, -crawl.ProvisionalDays-1).Format("20060102") {
					t.Errorf("night %d: a final report %s..%s was asked again", night+1, s.from, s.to)
				}
			default:
				t.Errorf("night %d: unexpected %s request", night+1, s.endpoint)
			}
		}
		if pages != wantPages {
			t.Errorf("night %d: %d ad/query requests, want %d: one a page of the new and provisional days %v", night+1, pages, wantPages, wantDays)
		}
		for _, d := range wantDays {
			if !gotDays[d] {
				t.Errorf("night %d: day %s was not fetched", night+1, d)
			}
		}
		// One report per country for each segment still provisional: the
		// first night's range and every night's day since.
		if want := len(n.cs) * (1 + night); reports != want {
			t.Errorf("night %d: %d ad/report requests, want %d", night+1, reports, want)
		}
		t.Logf("night %d: %d ad/query + %d ad/report requests (%d provisional and new days × %d countries; %d ad/query requests if those days were one slice a country)", night+1, pages, reports, len(wantDays), len(n.cs), merged)
	}

	// One harvest of the whole period, at the end.
	n.run(t, ref, n.job("ads", "ad-reports"))
	// last_shown_date of an active ad grows every day: the folder holds it
	// as of each ad's last fetch, checked against the fake below.
	testkit.SameItemsExcept(t, ref, dir, []string{"last_shown_date"}, "ads")
	testkit.SameItems(t, ref, dir, "ad_reports")
	db := testkit.Open(t, dir)
	for _, r := range testkit.TextRows(t, db, `SELECT ad_id::VARCHAR AS id, country_code AS c, fetched_at::VARCHAR AS at, coalesce(last_shown_date::VARCHAR, 'NULL') AS last, status FROM ads`) {
		var id int64
		fmt.Sscan(r["id"], &id)
		at, err := time.Parse("2006-01-02 15:04:05.999999-07", r["at"])
		if err != nil {
			t.Fatalf("fetched_at %q: %v", r["at"], err)
		}
		a, ok := u.AdAsOf(id, at)
		if !ok || a.LastShown.Format("2006-01-02") != r["last"] || a.Status != r["status"] {
			t.Errorf("ad %d in %s fetched %s: last shown %s, %s; the fake said %s, %s then", id, r["c"], at, r["last"], r["status"], a.LastShown.Format("2006-01-02"), a.Status)
			break
		}
	}

	// ad_history: each takedown the fake made between two nights, among
	// the ads visible at the first of them, first observed by the second.
	type change struct {
		id  int64
		run string
	}
	var want []change
	for k := 1; k < len(runs); k++ {
		prev, cur := n.first.AddDate(0, 0, k-1), n.first.AddDate(0, 0, k)
		seen := map[int64]bool{}
		for _, c := range n.cs {
			q := apitest.AdQuery{Country: c, From: dayOf(n.from), To: day(prev).AddDate(0, 0, -1)}
			was := map[int64]apitest.AdState{}
			for _, s := range u.States(q, prev) {
				was[s.ID] = s
			}
			for _, s := range u.States(q, cur) {
				if w, ok := was[s.ID]; ok && w.Visible && w.Status != s.Status && !seen[s.ID] {
					seen[s.ID] = true
					want = append(want, change{s.ID, runs[k].Run.RunID})
				}
			}
		}
	}
	if len(want) < 5 {
		t.Fatalf("the fake took %d ads down between the nights: too few for the history check to mean much", len(want))
	}
	t.Logf("%d takedowns between the nights", len(want))
	var got []change
	for _, r := range testkit.TextRows(t, db, `SELECT ad_id::VARCHAR AS id, run_id FROM ad_history WHERE previous_status IS NOT NULL`) {
		var id int64
		fmt.Sscan(r["id"], &id)
		got = append(got, change{id, r["run_id"]})
	}
	key := func(cs []change) string {
		var s []string
		for _, c := range cs {
			s = append(s, fmt.Sprint(c.id, "@", c.run))
		}
		sort.Strings(s)
		return strings.Join(s, " ")
	}
	if key(got) != key(want) {
		t.Errorf("ad_history changes:\n got %s\nwant %s", key(got), key(want))
	}
	if n := testkit.Int(t, db, `SELECT count(*) FROM ad_history WHERE previous_status IS NOT NULL AND (previous_status <> 'active' OR status <> 'inactive')`); n != 0 {
		t.Errorf("%d changes other than takedowns", n)
	}
	// Every ad has its first state, found by the run that first fetched it.
	if n := testkit.Int(t, db, `SELECT count(*) FROM (SELECT DISTINCT ad_id FROM ads) a ANTI JOIN (SELECT ad_id FROM ad_history WHERE previous_status IS NULL) h USING (ad_id)`); n != 0 {
		t.Errorf("%d ads without a first state in ad_history", n)
	}
	// first_seen_at is the earliest fetch; replaced fetches are observations.
	if n := testkit.Int(t, db, `SELECT count(*) FROM ads WHERE first_seen_at > fetched_at`); n != 0 {
		t.Errorf("%d ads first seen after their latest fetch", n)
	}
	// An ad of a day fetched on every night was first seen on the first.
	early := day(n.first).AddDate(0, 0, -2).Format("2006-01-02")
	if k := testkit.Int(t, db, fmt.Sprintf(`SELECT count(*) FROM ads WHERE first_shown_date = DATE '%s' AND run_id = '%s' AND first_seen_at::DATE <> DATE '%s'`,
		early, runs[len(runs)-1].Run.RunID, day(n.first).Format("2006-01-02"))); k != 0 {
		t.Errorf("%d ads of %s, fetched on every night, have a first_seen_at after the first", k, early)
	}
	if n := testkit.Int(t, db, `SELECT count(*) FROM ads WHERE first_seen_at < fetched_at`); n == 0 {
		t.Error("no ad was first seen before its latest fetch: the replaced fetches do not count")
	}
	if n := testkit.Int(t, db, `SELECT count(*) FROM ad_observations WHERE source = 'ad/query'`); n <= testkit.Int(t, db, `SELECT count(*) FROM ads`) {
		t.Errorf("%d observations: want more than one per ad, since provisional days were fetched on every night", n)
	}
}

func dayOf(s string) time.Time {
	t, _ := time.Parse("2006-01-02", s)
	return t
}

// TestStaleActivesAreRecheckedWithinTheBudget: ads whose detail said active
// but that have not been shown for RecheckDays are asked ad/detail again,
// newest first, within the detail budget; a takedown found so is in
// ad_history at that run, and a re-check spent once is not spent again
// before RecheckDays pass.
func TestStaleActivesAreRecheckedWithinTheBudget(t *testing.T) {
	t.Parallel()
	t1 := time.Date(2024, 5, 25, 2, 0, 0, 0, time.UTC)
	clk := apitest.NewClock(t1)
	srv := testkit.StartAPI(t, apitest.Options{Seed: 8, Now: clk.Now, Lifecycle: &apitest.Lifecycle{TakedownRate: 0.5, TakedownWithin: 40}})
	u := srv.Universe()
	dir := t.TempDir()
	run := func(j *job.Job, recheck, budget int) (crawl.Result, []int64) {
		t.Helper()
		before := len(srv.Requests())
		o := testkit.Options(srv, dir, j)
		o.Now, o.RecheckDays, o.DetailBudget = clk.Now, recheck, budget
		res, err := crawl.Run(context.Background(), o)
		if err != nil {
			t.Fatalf("harvest at %s: %v", clk.Now().Format(time.RFC3339), err)
		}
		var ids []int64
		for _, r := range srv.Requests()[before:] {
			if r.Endpoint == apitest.EndpointAdDetail {
				var b struct {
					AdID int64 `json:"ad_id"`
				}
				json.Unmarshal(r.Body, &b)
				ids = append(ids, b.AdID)
			}
		}
		return res, ids
	}
	_, first := run(&job.Job{Datasets: []string{"ads", "ad-details"}, Queries: []job.Query{{Countries: []string{"FR"}, From: "2024-05-01", To: "2024-05-20"}}}, 0, 0)

	// Three weeks later: which ads did the folder last see active, and
	// not shown for a week?
	t2 := t1.AddDate(0, 0, 21)
	clk.Set(t2)
	type cand struct {
		id   int64
		last time.Time
	}
	var stale []cand
	for _, id := range first {
		a, ok := u.AdAsOf(id, t1)
		if ok && a.Status == "active" && !a.LastShown.After(day(t2).AddDate(0, 0, -7)) {
			stale = append(stale, cand{id, a.LastShown})
		}
	}
	sort.Slice(stale, func(i, j int) bool {
		if !stale[i].last.Equal(stale[j].last) {
			return stale[i].last.After(stale[j].last)
		}
		return stale[i].id > stale[j].id
	})
	const budget = 6
	if len(stale) < 2*budget {
		t.Fatalf("%d stale actives: too few for the test", len(stale))
	}
	if _, ids := run(nil, 0, budget); len(ids) != 0 {
		t.Fatalf("without --recheck-days a resume asked %d details", len(ids))
	}
	res, ids := run(nil, 7, budget)
	var want []int64
	for _, c := range stale[:budget] {
		want = append(want, c.id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	sort.Slice(want, func(i, j int) bool { return want[i] < want[j] })
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Fatalf("re-checked %v, want the %d newest stale actives %v", ids, budget, want)
	}
	// The next run the same day takes the next ones, not the same again.
	_, again := run(nil, 7, budget)
	for _, id := range again {
		for _, w := range want {
			if id == w {
				t.Fatalf("ad %d re-checked twice within a week", id)
			}
		}
	}
	if len(again) != budget {
		t.Fatalf("second re-check run asked %d details, want %d", len(again), budget)
	}
	// A takedown found by a re-check is in ad_history, at that run.
	db := testkit.Open(t, dir)
	downs := 0
	for _, id := range want {
		if a, _ := u.AdAsOf(id, t2); a.Status == "inactive" {
			downs++
			got := testkit.TextRows(t, db, fmt.Sprintf(`SELECT run_id, source, previous_status FROM ad_history WHERE ad_id = %d AND status = 'inactive'`, id))
			if len(got) != 1 || got[0]["run_id"] != res.Run.RunID || got[0]["source"] != "ad/detail" || got[0]["previous_status"] != "active" {
				t.Errorf("ad %d taken down: ad_history says %v, want one change from active, by run %s through ad/detail", id, got, res.Run.RunID)
			}
		}
	}
	if downs == 0 {
		t.Fatal("no re-checked ad was taken down: the history check means nothing")
	}
}
