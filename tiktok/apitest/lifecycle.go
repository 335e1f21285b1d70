package apitest

import (
	"slices"
	"time"
)

// Lifecycle makes the universe change as Options.Now moves, for monitoring
// tests that harvest the same range on several days: ads (and commercial
// content) appear only once they exist, active ads' last_shown_date grows with
// today, and some ads are taken down. Everything is a pure function of the seed
// and of "today", so two servers with the same seed and the same Now agree,
// and a test can ask the universe what changed between two days.
//
// The rules, for an ad published on day d (its first_shown_date):
//
//   - It is visible (in ad/query, ad/report and ad/detail) from 00:00 UTC of
//     day d+1 plus its publication latency, a whole number of minutes drawn
//     uniformly from [0, MaxPublishLatency]. Before that it does not exist:
//     ad/detail answers "does not exist". (ad/query ranges must end before
//     today anyway, so a day's ads can only be asked for from d+1 on.)
//   - A fraction TakedownRate of the ads is taken down on a day k in
//     d+1 … d+TakedownWithin (see Ad.TakedownDay). From day k on (today >= k)
//     the ad is inactive with the takedown status_statement; before, it is
//     active (status_statement absent, or "N/A" with LiveForms, and no
//     rejection_info).
//   - last_shown_date on day T (the UTC date of Options.Now) is
//     min(end, k-1, T-1), but never before first_shown_date, where end is the
//     ad's natural last day. So it grows by one day per day until the ad ends
//     or is taken down, and then stops.
//
// Without a Lifecycle the universe is static: every ad exists whatever the
// date, and 1 in 12 ads is inactive from the start.
type Lifecycle struct {
	// MaxPublishLatency is the longest delay, after the midnight that ends
	// an item's publish day, before it is served; 0 means none.
	MaxPublishLatency time.Duration
	// TakedownRate is the fraction of ads taken down at some point; 0 means
	// 1/12, the share of inactive ads in a static universe. Under a
	// Lifecycle it replaces the static inactive ads.
	TakedownRate float64
	// TakedownWithin is the latest takedown, in days after publication;
	// 0 means 90. A takedown may come after the ad stopped being shown.
	TakedownWithin int
}

const (
	visAll = iota
	visSome
	visNone
)

// dayVisibility says whether all, some or none of day d's items are visible
// at asOf.
func (u *Universe) dayVisibility(d int32, asOf time.Time) int {
	if u.life == nil || asOf.IsZero() {
		return visAll
	}
	start := dayTime(d + 1)
	switch {
	case asOf.Before(start):
		return visNone
	case !asOf.Before(start.Add(u.life.MaxPublishLatency)):
		return visAll
	}
	return visSome
}

// publishLatency is the delay of an item after the midnight ending its day.
func (u *Universe) publishLatency(key uint64) time.Duration {
	maxMin := uint64(u.life.MaxPublishLatency / time.Minute)
	if maxMin == 0 {
		return 0
	}
	return time.Duration(u.hash(tagLife, key, 0, 0)%(maxMin+1)) * time.Minute
}

func (u *Universe) adVisible(s *adSkel, asOf time.Time) bool {
	return !asOf.Before(dayTime(s.day + 1).Add(u.publishLatency(uint64(s.id))))
}

func contentKey(s *contentSkel) uint64 {
	return 1<<63 | uint64(s.day)<<32 | uint64(s.country)<<16 | uint64(s.idx)
}

func (u *Universe) contentVisible(s *contentSkel, asOf time.Time) bool {
	return !asOf.Before(dayTime(s.day + 1).Add(u.publishLatency(contentKey(s))))
}

// takedownDay is the day index from which the ad is inactive, or -1.
func (u *Universe) takedownDay(s *adSkel) int32 {
	rate := u.life.TakedownRate
	if rate <= 0 {
		rate = 1.0 / 12
	}
	within := u.life.TakedownWithin
	if within <= 0 {
		within = 90
	}
	h := u.hash(tagLife, uint64(s.id), 1, 0)
	if unitFloat(h) >= rate {
		return -1
	}
	return s.day + 1 + int32(mix64(h)%uint64(within))
}

// lifecycleFinal turns a freshly generated ad into its final state under the
// Lifecycle: its visibility instant and takedown.
func (u *Universe) lifecycleFinal(s *adSkel, a *Ad) {
	a.VisibleFrom = dayTime(s.day + 1).Add(u.publishLatency(uint64(s.id)))
	k := u.takedownDay(s)
	if k < 0 {
		a.Status = "active"
		a.StatusStatement = u.activeStatement()
		return
	}
	a.TakedownDay = dayTime(k)
	a.Status, a.StatusStatement = "inactive", takedownText
	if last := dayTime(k - 1); a.LastShown.After(last) {
		a.LastShown = last
	}
}

func (u *Universe) activeStatement() string {
	if u.live {
		return "N/A"
	}
	return ""
}

// applyAsOf turns an ad's final state into its state at now.
func (u *Universe) applyAsOf(a *Ad, now time.Time) {
	t := dayIndex(now)
	if !a.TakedownDay.IsZero() && t < dayIndex(a.TakedownDay) {
		a.Status, a.StatusStatement, a.Rejection = "active", u.activeStatement(), nil
	}
	last := min(dayIndex(a.LastShown), t-1)
	last = max(last, dayIndex(a.FirstShown))
	a.LastShown = dayTime(last)
}

// AdAsOf is the ad as ad/detail serves it when Options.Now() returns now:
// false when the id is unknown or, under a Lifecycle, not visible yet.
// Without a Lifecycle it is AdDetail.
func (u *Universe) AdAsOf(id int64, now time.Time) (Ad, bool) {
	a, ok := u.AdDetail(id)
	if !ok || u.life == nil {
		return a, ok
	}
	if now.Before(a.VisibleFrom) {
		return Ad{}, false
	}
	u.applyAsOf(&a, now)
	return a, true
}

// AdsAsOf is what a complete paging of ad/query returns for q when
// Options.Now() returns now (server behaviours such as ShortPaging aside; see
// ServedAdIDs): the visible ads in their state at now. A zero now is Ads.
func (u *Universe) AdsAsOf(q AdQuery, now time.Time) []Ad {
	sk := u.matchAdsAt(q, now)
	out := make([]Ad, len(sk))
	for i, s := range sk {
		out[i] = u.materializeAt(s, now)
	}
	return out
}

// AdIDsAsOf is AdsAsOf reduced to ids.
func (u *Universe) AdIDsAsOf(q AdQuery, now time.Time) []int64 {
	sk := u.matchAdsAt(q, now)
	out := make([]int64, len(sk))
	for i, s := range sk {
		out[i] = s.id
	}
	return out
}

// AdState is what changes about an ad as days pass.
type AdState struct {
	ID int64
	// Visible is whether the ad is served at all.
	Visible bool
	// Status, StatusStatement and LastShown are as served (meaningful also
	// for an invisible ad: what it will look like once visible, that day).
	Status, StatusStatement string
	LastShown               time.Time
}

// States returns the state at now of every ad q selects, visible or not, in
// paging order. Tests compare two days' states to assert every change the
// fake made.
func (u *Universe) States(q AdQuery, now time.Time) []AdState {
	sk := u.matchAds(q)
	out := make([]AdState, len(sk))
	for i, s := range sk {
		a := u.materialize(s)
		st := AdState{ID: a.ID, Visible: true}
		if u.life != nil && !now.IsZero() {
			st.Visible = !now.Before(a.VisibleFrom)
			u.applyAsOf(&a, now)
		}
		st.Status, st.StatusStatement, st.LastShown = a.Status, a.StatusStatement, a.LastShown
		out[i] = st
	}
	return out
}

// StatusChange is one takedown: from Day on the ad is inactive.
type StatusChange struct {
	ID       int64
	Day      time.Time
	From, To string // "active", "inactive"
}

// StatusChanges lists the takedowns, among the ads q selects, that take
// effect on a day in [from, to] (UTC dates), ordered by day, then paging
// order. A monitor that harvested on day T1 and again on T2 should see exactly
// StatusChanges(q, T1+1, T2) among the ads visible on T1. Empty without a
// Lifecycle.
func (u *Universe) StatusChanges(q AdQuery, from, to time.Time) []StatusChange {
	if u.life == nil {
		return nil
	}
	lo, hi := dayIndex(from), dayIndex(to)
	var out []StatusChange
	for _, s := range u.matchAds(q) {
		if k := u.takedownDay(&s); k >= lo && k <= hi {
			out = append(out, StatusChange{ID: s.id, Day: dayTime(k), From: "active", To: "inactive"})
		}
	}
	// Stable by day (matchAds is newest publish day first).
	slices.SortStableFunc(out, func(a, b StatusChange) int { return a.Day.Compare(b.Day) })
	return out
}

// CommercialContentAsOf is CommercialContent restricted to the posts visible
// at now under a Lifecycle (posts do not otherwise change).
func (u *Universe) CommercialContentAsOf(country string, from, to time.Time, usernames []string, now time.Time) []Content {
	sk := u.matchContentAt(country, from, to, usernames, now)
	out := make([]Content, len(sk))
	for i, s := range sk {
		out[i] = u.materializeContent(s)
	}
	return out
}
