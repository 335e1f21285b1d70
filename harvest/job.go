package harvest

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"adharvest/countries"
	"adharvest/harvest/api"
)

// Dataset names, as --datasets spells them.
const (
	DatasetAds               = "ads"
	DatasetAdDetails         = "ad-details"
	DatasetAdReports         = "ad-reports"
	DatasetCommercialContent = "commercial-content"
	DatasetAdvertisers       = "advertisers"
)

// KnownDatasets lists the datasets in the order they are harvested.
var KnownDatasets = []string{DatasetAds, DatasetAdDetails, DatasetAdReports, DatasetCommercialContent, DatasetAdvertisers}

// implemented lists the datasets this build can harvest.
var implemented = []string{DatasetAds}

// DefaultWindowDays splits date ranges into weeks: the sister Research API
// produced fewer 500s with windows of about seven days.
const DefaultWindowDays = 7

// Job is what a harvest is asked to fetch. It is stored in the checkpoint, and
// a folder's job never changes silently: a different job needs --restart.
type Job struct {
	Datasets         []string `json:"datasets"`
	Countries        []string `json:"countries"`
	From             string   `json:"from"`
	To               string   `json:"to"`
	WindowDays       int      `json:"window_days"`
	Terms            []string `json:"terms,omitempty"`
	SearchType       string   `json:"search_type,omitempty"`
	AdvertiserIDs    []int64  `json:"advertiser_ids,omitempty"`
	CreatorUsernames []string `json:"creator_usernames,omitempty"`
	ReachMin         string   `json:"reach_min,omitempty"`
	ReachMax         string   `json:"reach_max,omitempty"`
	MaxCount         int      `json:"max_count"`
}

// UsageError is bad input: exit code 2, one line, nothing sent.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// Usagef builds a UsageError.
func Usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// Normalize validates the job and puts it in canonical form (sorted, deduplicated,
// dates as YYYY-MM-DD), so that equal jobs hash equally. today is the current
// UTC day: the API only serves days strictly before it.
func (j *Job) Normalize(today time.Time) error {
	if len(j.Datasets) == 0 {
		j.Datasets = []string{DatasetAds}
	}
	var ds []string
	for _, d := range j.Datasets {
		d = strings.ToLower(strings.TrimSpace(d))
		d = strings.ReplaceAll(d, "_", "-")
		if d == "" {
			continue
		}
		if !slices.Contains(KnownDatasets, d) {
			return Usagef("unknown dataset %q: use a comma list of %s", d, strings.Join(KnownDatasets, ","))
		}
		if !slices.Contains(implemented, d) {
			return Usagef("dataset %q is not supported by this version yet: use %s", d, strings.Join(implemented, ","))
		}
		if !slices.Contains(ds, d) {
			ds = append(ds, d)
		}
	}
	slices.SortFunc(ds, func(a, b string) int { return slices.Index(KnownDatasets, a) - slices.Index(KnownDatasets, b) })
	j.Datasets = ds

	cs, err := countries.Parse(strings.Join(j.Countries, ","))
	if err != nil {
		return &UsageError{Msg: "--countries: " + err.Error()}
	}
	j.Countries = cs

	if j.From == "" || j.To == "" {
		return Usagef("--from and --to are required (YYYY-MM-DD); re-run with no flags only to resume a folder that already holds a job")
	}
	from, err := api.ParseDay(strings.TrimSpace(j.From))
	if err != nil {
		return Usagef("--from: %v", err)
	}
	to, err := api.ParseDay(strings.TrimSpace(j.To))
	if err != nil {
		return Usagef("--to: %v", err)
	}
	if err := api.ValidateDays(from, to); err != nil {
		return usageFromInvalid(err)
	}
	today = today.UTC().Truncate(24 * time.Hour)
	if !to.Before(today) {
		return Usagef("--to: %s is not before today (%s UTC); the API serves only past days, so use --to %s or earlier",
			to.Format("2006-01-02"), today.Format("2006-01-02"), today.AddDate(0, 0, -1).Format("2006-01-02"))
	}
	j.From, j.To = from.Format("2006-01-02"), to.Format("2006-01-02")

	if j.WindowDays == 0 {
		j.WindowDays = DefaultWindowDays
	}
	if j.WindowDays < 1 || j.WindowDays > 366 {
		return Usagef("--window: %d days is outside 1..366", j.WindowDays)
	}

	var terms []string
	for _, t := range j.Terms {
		t = strings.TrimSpace(t)
		if t == "" || slices.Contains(terms, t) {
			continue
		}
		if err := api.ValidateTerm(t); err != nil {
			return usageFromInvalid(err)
		}
		terms = append(terms, t)
	}
	j.Terms = terms
	j.SearchType = strings.ToLower(strings.TrimSpace(j.SearchType))
	if err := api.ValidateSearchType(j.SearchType); err != nil {
		return usageFromInvalid(err)
	}
	if j.SearchType == api.SearchExact {
		j.SearchType = "" // the API default; stored empty so equal jobs hash equally
	}
	slices.Sort(j.AdvertiserIDs)
	j.AdvertiserIDs = slices.Compact(j.AdvertiserIDs)
	for _, id := range j.AdvertiserIDs {
		if id <= 0 {
			return Usagef("--advertiser-id: %d is not a positive business id", id)
		}
	}
	var users []string
	for _, u := range j.CreatorUsernames {
		u = strings.TrimPrefix(strings.TrimSpace(u), "@")
		if u != "" && !slices.Contains(users, u) {
			users = append(users, u)
		}
	}
	slices.Sort(users)
	j.CreatorUsernames = users

	j.ReachMin, j.ReachMax = strings.ToUpper(strings.TrimSpace(j.ReachMin)), strings.ToUpper(strings.TrimSpace(j.ReachMax))
	if err := (api.SizeRange{Min: j.ReachMin, Max: j.ReachMax}).Validate(); err != nil {
		return usageFromInvalid(err)
	}
	if j.MaxCount == 0 {
		j.MaxCount = api.MaxCount
	}
	if j.MaxCount < 1 || j.MaxCount > api.MaxCount {
		return Usagef("--max-count: %d is outside 1..%d, the page sizes the API serves", j.MaxCount, api.MaxCount)
	}
	return nil
}

func usageFromInvalid(err error) error {
	if ie, ok := err.(*api.InvalidError); ok {
		return Usagef("--%s: %s", ie.Field, ie.Msg)
	}
	return &UsageError{Msg: err.Error()}
}

// Hash identifies the job's content.
func (j Job) Hash() string {
	b, _ := json.Marshal(j)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:8])
}

// Window is an inclusive range of days.
type Window struct{ From, To time.Time }

// Label is the window's stable name in shard ids and file names.
func (w Window) Label() string { return w.From.Format("20060102") + "-" + w.To.Format("20060102") }

// Windows splits the job's range into windows of WindowDays, the last one short.
func (j Job) Windows() []Window {
	from, _ := api.ParseDay(j.From)
	to, _ := api.ParseDay(j.To)
	var out []Window
	for d := from; !d.After(to); d = d.AddDate(0, 0, j.WindowDays) {
		end := d.AddDate(0, 0, j.WindowDays-1)
		if end.After(to) {
			end = to
		}
		out = append(out, Window{From: d, To: end})
	}
	return out
}

// termKey names a (term, search type, advertiser ids) combination in shard ids.
// "all" is the unfiltered query; anything else is a short hash, because terms
// can hold any Unicode and file names cannot.
func termKey(term, searchType string, ids []int64) string {
	if term == "" && len(ids) == 0 {
		return "all"
	}
	var b strings.Builder
	b.WriteString(term)
	b.WriteString("\x00" + searchType)
	for _, id := range ids {
		b.WriteString("\x00" + strconv.FormatInt(id, 10))
	}
	s := sha256.Sum256([]byte(b.String()))
	return "t" + hex.EncodeToString(s[:5])
}
