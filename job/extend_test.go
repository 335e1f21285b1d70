package job

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func norm(t *testing.T, today time.Time, j Job) Job {
	t.Helper()
	if err := j.Normalize(today, nil); err != nil {
		t.Fatal(err)
	}
	return j
}

func TestYesterdayIsAWordTheJobKeeps(t *testing.T) {
	today := time.Date(2024, 6, 10, 3, 0, 0, 0, time.UTC)
	for _, w := range []string{"yesterday", "Yesterday", "today"} {
		j := norm(t, today, Job{Queries: []Query{{Countries: []string{"FR"}, From: "2024-06-01", To: w}}})
		q := j.Queries[0]
		if q.To != "2024-06-09" || q.ToWord != strings.ToLower(w) {
			t.Errorf("to %q: To %q, word %q; want 2024-06-09 and the word kept", w, q.To, q.ToWord)
		}
	}
	// From a job file too.
	j, err := ParseFile(".yaml", []byte("countries: FR\nfrom: 2024-06-01\nto: yesterday\n"))
	if err != nil {
		t.Fatal(err)
	}
	j = norm(t, today, j)
	if j.Queries[0].To != "2024-06-09" || j.Queries[0].ToWord != Yesterday {
		t.Fatalf("job file: %+v", j.Queries[0])
	}
	// The stored job rolls on to the next yesterday.
	rolled, ok := j.Rolled(today.AddDate(0, 0, 2))
	if !ok || rolled.Queries[0].To != "2024-06-11" || j.Queries[0].To != "2024-06-09" {
		t.Fatalf("rolled %v %+v; the original must stay as it was: %+v", ok, rolled.Queries[0], j.Queries[0])
	}
	if _, ok := j.Rolled(today); ok {
		t.Fatal("a job already at yesterday does not roll")
	}
}

func TestExtendAddsSegmentsAndKeepsThePlannedOnes(t *testing.T) {
	t1 := time.Date(2024, 6, 10, 2, 0, 0, 0, time.UTC)
	cut1 := t1.Truncate(24*time.Hour).AddDate(0, 0, -3)
	prev := norm(t, t1, Job{Datasets: []string{"ads"}, Queries: []Query{{Countries: []string{"FR"}, From: "2024-05-01", To: "yesterday"}}})
	prev.Pin(cut1)
	if got := prev.Queries[0].Segments; len(got) != 1 || got[0] != (Segment{From: "2024-05-01", To: "2024-06-09", ProvisionalFrom: "2024-06-07"}) {
		t.Fatalf("pinned %+v", got)
	}
	t2 := t1.AddDate(0, 0, 1)
	next := norm(t, t2, Job{Datasets: []string{"ads", "ad-reports"}, Queries: []Query{{Countries: []string{"DE", "FR"}, From: "2024-05-01", To: "yesterday", Terms: []string{"vote"}}}})
	merged, changed, err := Extend(prev, next, t2.Truncate(24*time.Hour).AddDate(0, 0, -3))
	if err != nil || !changed {
		t.Fatalf("extend: %v, changed %v", err, changed)
	}
	q := merged.Queries[0]
	want := []Segment{{From: "2024-05-01", To: "2024-06-09", ProvisionalFrom: "2024-06-07"}, {From: "2024-06-10", To: "2024-06-10", ProvisionalFrom: "2024-06-08"}}
	if len(q.Segments) != 2 || q.Segments[0] != want[0] || q.Segments[1] != want[1] {
		t.Fatalf("segments %+v, want %+v", q.Segments, want)
	}
	if q.From != "2024-05-01" || q.To != "2024-06-10" || q.ToWord != Yesterday || strings.Join(q.Countries, ",") != "DE,FR" || strings.Join(q.Terms, ",") != "vote" {
		t.Fatalf("merged query %+v", q)
	}
	if strings.Join(merged.Datasets, ",") != "ads,ad-reports" {
		t.Fatalf("datasets %v", merged.Datasets)
	}
	// Asking again what is held (or less) is a resume.
	again, changed, err := Extend(merged, prev, time.Time{})
	if err != nil || changed || again.Hash() != merged.Hash() {
		t.Fatalf("asking less: %v, changed %v", err, changed)
	}
}

func TestExtendRefusesChangedFilters(t *testing.T) {
	today := time.Date(2024, 6, 10, 2, 0, 0, 0, time.UTC)
	base := func() Job {
		return Job{Queries: []Query{{Countries: []string{"FR"}, From: "2024-05-01", To: "2024-05-31", Terms: []string{"vote"}}}}
	}
	prev := norm(t, today, base())
	for name, change := range map[string]func(*Job){
		"the search type":     func(j *Job) { j.Queries[0].SearchType = "fuzzy_phrase" },
		"the advertiser ids":  func(j *Job) { j.Queries[0].AdvertiserIDs = []int64{7} },
		"the minimum reach":   func(j *Job) { j.Queries[0].ReachMin = "10K" },
		"the window (days)":   func(j *Job) { j.WindowDays = 7 },
		"the page size":       func(j *Job) { j.MaxCount = 20 },
		"the countries":       func(j *Job) { j.Queries[0].Countries = []string{"ALL"} },
		"the creator":         func(j *Job) { j.Queries[0].CreatorUsernames = []string{"joe"} },
		"the maximum reach":   func(j *Job) { j.Queries[0].ReachMax = "1M" },
		"the slice size (ads": func(j *Job) { j.SliceAds = 500 },
	} {
		next := base()
		change(&next)
		next = norm(t, today, next)
		_, _, err := Extend(prev, next, today)
		var ee *ExtendError
		if !errors.As(err, &ee) || !strings.Contains(err.Error(), name) {
			t.Errorf("%s changed: %v, want an *ExtendError naming it", name, err)
		}
	}
}

func TestExtendEarlierFromAndNewQueries(t *testing.T) {
	today := time.Date(2024, 6, 10, 2, 0, 0, 0, time.UTC)
	prev := norm(t, today, Job{Queries: []Query{{Countries: []string{"FR"}, From: "2024-05-01", To: "2024-05-31"}}})
	next := norm(t, today, Job{Queries: []Query{
		{Countries: []string{"FR"}, From: "2024-04-01", To: "2024-05-31"},
		{Countries: []string{"IT"}, From: "2024-05-01", To: "2024-05-31", Terms: []string{"pizza"}},
	}})
	merged, changed, err := Extend(prev, next, today.AddDate(0, 0, -3))
	if err != nil || !changed || len(merged.Queries) != 2 {
		t.Fatalf("%v %v %+v", err, changed, merged.Queries)
	}
	q := merged.Queries[0]
	if q.From != "2024-04-01" || len(q.Segments) != 2 || q.Segments[0] != (Segment{From: "2024-04-01", To: "2024-04-30"}) || q.Segments[1] != (Segment{From: "2024-05-01", To: "2024-05-31"}) {
		t.Fatalf("earlier from: %+v", q)
	}
}
