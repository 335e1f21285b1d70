// Package job is what a harvest is asked to fetch: datasets and queries, their
// normal form and identity, date windows, and the YAML/TOML job files. It does
// no I/O beyond reading a job file, so that the command line, the crawler, the
// report and the tests agree on what a job means.
package job

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"adharvest/countries"
	"adharvest/tiktok/api"
)

// Dataset names, as --datasets spells them.
const (
	Ads               = "ads"
	AdDetails         = "ad-details"
	AdReports         = "ad-reports"
	CommercialContent = "commercial-content"
	Advertisers       = "advertisers"
	// Media is the creatives the other datasets link to, downloaded while
	// they are harvested (see package media): it sends no API request.
	Media = "media"
)

// KnownDatasets lists the datasets in the order they are harvested. ad-details
// comes after ads because it fetches the ads that ads found; media last, as
// it downloads what the others link to.
var KnownDatasets = []string{Ads, AdDetails, AdReports, CommercialContent, Advertisers, Media}

// DefaultSliceAds is the most ads a planned slice of ad/query holds unless the
// job says otherwise: 50 pages of 50, what a search_id lost at the end of a
// slice may cost.
const DefaultSliceAds = 2500

// Words a query's last day may be given as (--to yesterday, to: yesterday):
// the day before today (UTC), whichever day the job runs on. today means the
// same, since the API serves only days before today.
const (
	Yesterday = "yesterday"
	Today     = "today"
)

// ErrNoDates is a job with a query that names no date range.
var ErrNoDates = &FieldError{Field: "from", Msg: "a first and a last day are required (YYYY-MM-DD)"}

// Job is what a harvest is asked to fetch: datasets, and one or more queries.
// It is stored in the checkpoint, and a folder's job never changes silently:
// a job that asks more of it extends it (see Extend), one that filters
// otherwise needs --restart.
type Job struct {
	Datasets []string `json:"datasets"`
	// WindowDays, when above 0, cuts every date range into fixed windows of
	// that many days (--window). 0, the default, plans slices from ad/report:
	// as long as possible under SliceAds ads each (see package crawl).
	WindowDays int `json:"window_days"`
	// SliceAds is the most ads a planned slice may hold; 0 means
	// DefaultSliceAds.
	SliceAds int     `json:"slice_ads,omitempty"`
	MaxCount int     `json:"max_count"`
	Queries  []Query `json:"queries"`
	// Default is the datasets of the queries that name none of their own,
	// when some query does (a job file's datasets: under a query); Datasets
	// is then every dataset of the job, the union. Unset otherwise.
	Default []string `json:"default_datasets,omitempty"`
}

// Uses reports whether query q of the job fetches dataset d: its own
// datasets when it names some, else the job's. ad-details and media follow
// the ads the whole folder holds, whichever query found them.
func (j Job) Uses(q Query, d string) bool {
	switch {
	case len(q.Datasets) > 0:
		return slices.Contains(q.Datasets, d)
	case len(j.Default) > 0:
		return slices.Contains(j.Default, d)
	}
	return slices.Contains(j.Datasets, d)
}

// datasetsOf is what query q fetches (see Uses).
func (j Job) datasetsOf(q Query) []string {
	switch {
	case len(q.Datasets) > 0:
		return q.Datasets
	case len(j.Default) > 0:
		return j.Default
	}
	return j.Datasets
}

// normalizeDatasets checks and orders a list of dataset names.
func normalizeDatasets(list []string) ([]string, error) {
	var ds []string
	for _, d := range list {
		d = strings.ReplaceAll(strings.ToLower(strings.TrimSpace(d)), "_", "-")
		if d == "" {
			continue
		}
		if !slices.Contains(KnownDatasets, d) {
			return nil, fieldErr("datasets", "unknown dataset %q: use a comma list of %s", d, strings.Join(KnownDatasets, ","))
		}
		if !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	slices.SortFunc(ds, func(a, b string) int { return slices.Index(KnownDatasets, a) - slices.Index(KnownDatasets, b) })
	return ds, nil
}

// normalizeQueryDatasets checks the datasets queries name of their own and
// makes the job's Datasets their union with the job's own list, which
// becomes Default (what the other queries fetch). It is idempotent, as the
// job's hash must be: a normalized job keeps its Default.
func (j *Job) normalizeQueryDatasets() error {
	anyOwn, allOwn := false, true
	for _, q := range j.Queries {
		if len(q.Datasets) > 0 {
			anyOwn = true
		} else {
			allOwn = false
		}
	}
	if !anyOwn {
		return nil
	}
	var union []string
	if !allOwn {
		declared := j.Default
		if len(declared) == 0 {
			declared = j.Datasets
		}
		if len(declared) == 0 {
			declared = []string{Ads}
		}
		d, err := normalizeDatasets(declared)
		if err != nil {
			return err
		}
		j.Default, union = d, slices.Clone(d)
	} else {
		j.Default = nil
	}
	for i := range j.Queries {
		q := &j.Queries[i]
		if len(q.Datasets) == 0 {
			continue
		}
		d, err := normalizeDatasets(q.Datasets)
		if err != nil {
			var fe *FieldError
			if errors.As(err, &fe) && len(j.Queries) > 1 {
				c := *fe
				c.Query = i + 1
				return &c
			}
			return err
		}
		q.Datasets = d
		union = append(union, d...)
	}
	j.Datasets = union
	return nil
}

// Query is one set of filters. Flags make a job of one query; a job file can
// list several.
type Query struct {
	// Datasets, when set, are what this query fetches instead of the job's
	// datasets (datasets: under a query in a job file).
	Datasets         []string `json:"datasets,omitempty"`
	Countries        []string `json:"countries"`
	From             string   `json:"from"`
	To               string   `json:"to"`
	Terms            []string `json:"terms,omitempty"`
	SearchType       string   `json:"search_type,omitempty"`
	AdvertiserIDs    []int64  `json:"advertiser_ids,omitempty"`
	CreatorUsernames []string `json:"creator_usernames,omitempty"`
	ReachMin         string   `json:"reach_min,omitempty"`
	ReachMax         string   `json:"reach_max,omitempty"`
	// ToWord is "yesterday" (or "today") when the query was asked with
	// that word instead of a date: To is the day it stood for when the
	// job was last normalized, and every later run moves To to the new
	// yesterday (see Roll), so that one cron line harvests every night.
	ToWord string `json:"to_word,omitempty"`
	// Segments are the date ranges the query is planned in, oldest first,
	// covering From..To: the range it was first harvested over, and each
	// range a later run extended it by. Each is planned on its own, so that
	// extending a query never re-plans (and so never fetches again) what was
	// planned before. Empty is one segment, From..To, whose provisional days
	// start where the clock says (see Segment.ProvisionalFrom).
	Segments []Segment `json:"segments,omitempty"`
}

// Segment is one date range of a query that is planned on its own.
type Segment struct {
	From string `json:"from"`
	To   string `json:"to"`
	// ProvisionalFrom is the first day that was still provisional (recent
	// enough for ads to be arriving) when the segment was first planned:
	// the planner cuts the days before it into slices once, and the days
	// from it on into slices of one day, so that a later run, whose
	// provisional days have moved on, finds the same slices and fetches
	// only the days still provisional. "" when the segment held no
	// provisional day.
	ProvisionalFrom string `json:"provisional_from,omitempty"`
}

// Has reports whether the job harvests dataset d.
func (j Job) Has(d string) bool { return slices.Contains(j.Datasets, d) }

// Normalize validates the job and puts it in canonical form (sorted,
// deduplicated, dates as YYYY-MM-DD), so that equal jobs hash equally however
// they were written. today is the current UTC day: the API serves only days
// strictly before it. warn receives one-line notices (countries a dataset
// cannot take). Errors are *FieldError.
func (j *Job) Normalize(today time.Time, warn func(string)) error {
	if warn == nil {
		warn = func(string) {}
	}
	if err := j.normalizeQueryDatasets(); err != nil {
		return err
	}
	if len(j.Datasets) == 0 {
		j.Datasets = []string{Ads}
	}
	ds, err := normalizeDatasets(j.Datasets)
	if err != nil {
		return err
	}
	j.Datasets = ds
	if j.Has(AdDetails) && !j.Has(Ads) {
		return fieldErr("datasets", "ad-details fetches the ads that the ads dataset finds, so list ads too (ads,ad-details)")
	}
	if j.WindowDays < 0 || j.WindowDays > 366 {
		return fieldErr("window", "%d days is outside 1..366", j.WindowDays)
	}
	if j.MaxCount == 0 {
		j.MaxCount = api.MaxCount
	}
	if j.MaxCount < 1 || j.MaxCount > api.MaxCount {
		return fieldErr("max_count", "%d is outside 1..%d, the page sizes the API serves", j.MaxCount, api.MaxCount)
	}
	if j.SliceAds != 0 && (j.SliceAds < j.MaxCount || j.SliceAds > 1_000_000) {
		return fieldErr("slice_ads", "%d is outside %d..1000000 (at least one page of max_count)", j.SliceAds, j.MaxCount)
	}
	if len(j.Queries) == 0 {
		return ErrNoDates
	}
	// advertiser/query takes neither dates nor countries: a job of
	// advertisers alone needs neither.
	for i := range j.Queries {
		own := j.datasetsOf(j.Queries[i])
		undated := len(own) == 1 && own[0] == Advertisers
		if err := j.Queries[i].normalize(today, undated); err != nil {
			var fe *FieldError
			if errors.As(err, &fe) && len(j.Queries) > 1 {
				c := *fe
				c.Query = i + 1
				return &c
			}
			return err
		}
	}
	// Queries that normalise to the same filters are one query.
	var qs []Query
	for _, q := range j.Queries {
		if !slices.ContainsFunc(qs, func(o Query) bool { return equalJSON(o, q) }) {
			qs = append(qs, q)
		}
	}
	j.Queries = qs

	if j.Has(Advertisers) && len(j.Terms()) == 0 {
		return fieldErr("terms", "the advertisers dataset searches advertiser names, so give at least one search term")
	}
	if j.Has(CommercialContent) {
		var skipped []string
		served := 0
		for _, q := range j.Queries {
			ok, no := countries.Split(q.Countries, countries.ScopeCommercial)
			served += len(ok)
			for _, c := range no {
				if !slices.Contains(skipped, c) {
					skipped = append(skipped, c)
				}
			}
		}
		if served == 0 {
			return fieldErr("countries", "commercial-content covers EEA creators only, and %s leaves it no country; add an EEA country", strings.Join(skipped, ","))
		}
		if len(skipped) > 0 {
			warn(fmt.Sprintf("commercial-content skips %s (the API serves EEA creators only); the other datasets still use it", strings.Join(skipped, ",")))
		}
	}
	return nil
}

func (q *Query) normalize(today time.Time, undated bool) error {
	cs, err := countries.Parse(strings.Join(q.Countries, ","))
	if err != nil {
		return fieldErr("countries", "%v", err)
	}
	q.Countries = cs
	if undated && strings.TrimSpace(q.From) == "" && strings.TrimSpace(q.To) == "" {
		q.Countries, q.From, q.To = nil, "", ""
		return q.normalizeFilters()
	}
	if strings.TrimSpace(q.From) == "" || strings.TrimSpace(q.To) == "" {
		return ErrNoDates
	}
	from, err := api.ParseDay(strings.TrimSpace(q.From))
	if err != nil {
		return fieldErr("from", "%v", err)
	}
	today = today.UTC().Truncate(24 * time.Hour)
	var to time.Time
	if w := strings.ToLower(strings.TrimSpace(q.To)); w == Yesterday || w == Today {
		// The API serves only days before today, so both words mean the
		// last day it serves; the word is kept so that a later run moves on.
		q.ToWord, to = w, today.AddDate(0, 0, -1)
	} else if to, err = api.ParseDay(strings.TrimSpace(q.To)); err != nil {
		return fieldErr("to", "%v (or the word yesterday)", err)
	}
	if err := api.ValidateDays(from, to); err != nil {
		return fromInvalid(err)
	}
	if !to.Before(today) {
		return fieldErr("to", "%s is not before today (%s UTC); the API serves only past days, so use %s or earlier (or the word yesterday)",
			to.Format("2006-01-02"), today.Format("2006-01-02"), today.AddDate(0, 0, -1).Format("2006-01-02"))
	}
	q.From, q.To = from.Format("2006-01-02"), to.Format("2006-01-02")
	return q.normalizeFilters()
}

// normalizeFilters puts a query's filters other than countries and dates in
// canonical form.
func (q *Query) normalizeFilters() error {
	var terms []string
	for _, t := range q.Terms {
		t = strings.TrimSpace(t)
		if t == "" || slices.Contains(terms, t) {
			continue
		}
		if err := api.ValidateTerm(t); err != nil {
			return fromInvalid(err)
		}
		terms = append(terms, t)
	}
	slices.Sort(terms)
	q.Terms = terms
	q.SearchType = strings.ToLower(strings.TrimSpace(q.SearchType))
	if err := api.ValidateSearchType(q.SearchType); err != nil {
		return fromInvalid(err)
	}
	if q.SearchType == api.SearchExact {
		q.SearchType = "" // the API default; stored empty so equal jobs hash equally
	}
	slices.Sort(q.AdvertiserIDs)
	q.AdvertiserIDs = slices.Compact(q.AdvertiserIDs)
	for _, id := range q.AdvertiserIDs {
		if id <= 0 {
			return fieldErr("advertiser_ids", "%d is not a positive business id", id)
		}
	}
	var users []string
	for _, u := range q.CreatorUsernames {
		u = strings.TrimPrefix(strings.TrimSpace(u), "@")
		if u != "" && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	q.CreatorUsernames = users
	q.ReachMin, q.ReachMax = strings.ToUpper(strings.TrimSpace(q.ReachMin)), strings.ToUpper(strings.TrimSpace(q.ReachMax))
	if err := (api.SizeRange{Min: q.ReachMin, Max: q.ReachMax}).Validate(); err != nil {
		return fromInvalid(err)
	}
	return nil
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// Hash identifies the job's content.
func (j Job) Hash() string {
	b, _ := json.Marshal(j)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// Terms returns every search term of every query, in order of first use.
func (j Job) Terms() []string {
	var out []string
	for _, q := range j.Queries {
		for _, t := range q.Terms {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	return out
}

// Countries returns every country of every query, sorted.
func (j Job) Countries() []string {
	var out []string
	for _, q := range j.Queries {
		for _, c := range q.Countries {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Span returns the earliest from and the latest to over all queries.
func (j Job) Span() (from, to string) {
	for _, q := range j.Queries {
		if from == "" || q.From < from {
			from = q.From
		}
		if q.To > to {
			to = q.To
		}
	}
	return from, to
}

// Describe is the job in one line, for progress and status.
func (j Job) Describe() string {
	from, to := j.Span()
	s := fmt.Sprintf("%s for %d countries, %s to %s", strings.Join(j.Datasets, ","), len(j.Countries()), from, to)
	if len(j.Queries) > 1 {
		s += fmt.Sprintf(" (%d queries)", len(j.Queries))
	}
	return s
}

// Window is an inclusive range of days.
type Window struct{ From, To time.Time }

// Label is the window's stable name in shard ids and file names.
func (w Window) Label() string { return w.From.Format("20060102") + "-" + w.To.Format("20060102") }

// Windows splits a normalized query's range into windows of days, the last one
// short; days of 0 (adaptive planning) gives the whole range as one window.
func (q Query) Windows(days int) []Window {
	from, _ := api.ParseDay(q.From)
	to, _ := api.ParseDay(q.To)
	if q.From == "" || q.To == "" {
		return nil
	}
	if days <= 0 {
		return []Window{{From: from, To: to}}
	}
	var out []Window
	for d := from; !d.After(to); d = d.AddDate(0, 0, days) {
		end := d.AddDate(0, 0, days-1)
		if end.After(to) {
			end = to
		}
		out = append(out, Window{From: d, To: end})
	}
	return out
}
