// Package api holds the wire types of TikTok's Commercial Content API: typed
// request bodies that validate themselves before any quota is spent, the field
// lists each endpoint takes, and response decoders that accept every form the
// documentation contradicts itself with (see shared NOTES.md: has_more as bool
// or string, dates as int or string, buisness_id/business_id, paid_by/
// paid_for_by, videos/ad_videos, target/targeting_info, video/videos).
//
// The Decode* functions (items.go) decode a response item by item, so that
// one bad value costs its item, recorded as a Reject, and never the page it
// came in. Decoding that way passes over every byte once per nesting level,
// which was most of a harvest's CPU, so each Decode* first tries one pass over
// the whole response (fast.go) that gives up on anything it is not sure to
// read exactly as that code does; that code thus still decides every reject
// and every error. The field lists live in fields.go, in one table, with the
// newer fields marked Optional so that a caller can drop one the service
// refuses.
//
// Nothing here does I/O. The client that sends these lives in package tiktok.
package api

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Endpoints, relative to {api-url}/v2/research/adlib/.
const (
	EndpointAdQuery           = "ad/query"
	EndpointAdDetail          = "ad/detail"
	EndpointAdReport          = "ad/report"
	EndpointAdvertiserQuery   = "advertiser/query"
	EndpointCommercialContent = "commercial_content/query"
)

// MinDate is the earliest day the API serves: ranges must start on or after it.
var MinDate = time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)

// MaxCount is the largest page the paged endpoints return.
const MaxCount = 50

// MaxTermLen is the documented limit on search_term, in characters.
const MaxTermLen = 50

// Search types accepted by ad/query.
const (
	SearchExact = "exact_phrase"
	SearchFuzzy = "fuzzy_phrase"
)

// InvalidError is a request that the API would reject, found before sending it.
// Field names the offending input in the user's terms; the message says how to fix it.
type InvalidError struct {
	Field string
	Msg   string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Msg }

func invalid(field, format string, args ...any) error {
	return &InvalidError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// DateRange is the documented {"min":"YYYYMMDD","max":"YYYYMMDD"}, both inclusive.
type DateRange struct {
	Min string `json:"min"`
	Max string `json:"max"`
}

// NewDateRange formats two days in the documented string form.
func NewDateRange(from, to time.Time) DateRange {
	return DateRange{Min: from.Format("20060102"), Max: to.Format("20060102")}
}

// Validate checks that the range starts on or after MinDate and is not reversed.
func (r DateRange) Validate() error {
	from, err := ParseDay(r.Min)
	if err != nil {
		return invalid("from", "%v", err)
	}
	to, err := ParseDay(r.Max)
	if err != nil {
		return invalid("to", "%v", err)
	}
	return ValidateDays(from, to)
}

// ValidateDays checks a from/to pair against the API's documented limits.
func ValidateDays(from, to time.Time) error {
	if from.Before(MinDate) {
		return invalid("from", "%s is before 2022-10-01, the earliest date the API serves; use 2022-10-01 or later", from.Format("2006-01-02"))
	}
	if from.After(to) {
		return invalid("to", "%s is before from %s; swap them", to.Format("2006-01-02"), from.Format("2006-01-02"))
	}
	return nil
}

// SizeRange filters ads by unique users seen, in the K/M/B grammar.
type SizeRange struct {
	Min string `json:"min,omitempty"`
	Max string `json:"max,omitempty"`
}

// Validate applies the documented grammar: integers below 1000 followed by K, M
// or B; max greater than 0 and not below min.
func (r SizeRange) Validate() error {
	var lo, hi int64 = 0, -1
	var err error
	if r.Min != "" {
		if lo, err = ParseSize(r.Min); err != nil {
			return invalid("reach-min", "%v", err)
		}
	}
	if r.Max != "" {
		if hi, err = ParseSize(r.Max); err != nil {
			return invalid("reach-max", "%v", err)
		}
		if hi == 0 {
			return invalid("reach-max", "size %q must be greater than 0", r.Max)
		}
		if hi < lo {
			return invalid("reach-max", "%s is below reach-min %s", r.Max, r.Min)
		}
	}
	return nil
}

// AdFilters are ad/query's filters.
type AdFilters struct {
	PublishedRange        DateRange  `json:"ad_published_date_range"`
	CountryCode           string     `json:"country_code,omitempty"`
	AdvertiserBusinessIDs []int64    `json:"advertiser_business_ids,omitempty"`
	UniqueUsersSeen       *SizeRange `json:"unique_users_seen_size_range,omitempty"`
}

// AdQuery is the body of ad/query.
type AdQuery struct {
	Filters    AdFilters `json:"filters"`
	SearchTerm string    `json:"search_term,omitempty"`
	SearchType string    `json:"search_type,omitempty"`
	MaxCount   int       `json:"max_count,omitempty"`
	SearchID   string    `json:"search_id,omitempty"`
}

// Validate rejects a query the API would refuse, so that a bad job fails before
// any request is sent.
func (q AdQuery) Validate() error {
	if err := q.Filters.PublishedRange.Validate(); err != nil {
		return err
	}
	if err := ValidateTerm(q.SearchTerm); err != nil {
		return err
	}
	if err := ValidateSearchType(q.SearchType); err != nil {
		return err
	}
	if err := ValidateMaxCount(q.MaxCount); err != nil {
		return err
	}
	if q.Filters.UniqueUsersSeen != nil {
		if err := q.Filters.UniqueUsersSeen.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// ValidateTerm enforces the 50-character limit on search terms. The limit
// counts characters, not bytes, so "Café" is four.
func ValidateTerm(term string) error {
	if n := utf8.RuneCountInString(term); n > MaxTermLen {
		return invalid("term", "%.20q… is %d characters; the API takes at most %d, so shorten it", term, n, MaxTermLen)
	}
	if !utf8.ValidString(term) {
		return invalid("term", "%q is not valid UTF-8", term)
	}
	return nil
}

// ValidateSearchType accepts the two documented search types, case-insensitively.
func ValidateSearchType(t string) error {
	switch strings.ToLower(t) {
	case "", SearchExact, SearchFuzzy:
		return nil
	}
	return invalid("search-type", "%q is not exact_phrase or fuzzy_phrase", t)
}

// ValidateMaxCount enforces the page size limit.
func ValidateMaxCount(n int) error {
	if n < 0 || n > MaxCount {
		return invalid("max-count", "%d is outside 1..%d, the page sizes the API serves", n, MaxCount)
	}
	return nil
}

// ValidateFields checks a field list against an endpoint's documented fields.
func ValidateFields(known, fields []string) error {
	for _, f := range fields {
		if !slices.Contains(known, f) {
			return invalid("fields", "unknown field %q; known fields are %s", f, strings.Join(known, ","))
		}
	}
	return nil
}

// AdDetailRequest is the body of ad/detail.
type AdDetailRequest struct {
	AdID int64 `json:"ad_id"`
}

// AdReportFilters are ad/report's filters.
type AdReportFilters struct {
	PublishedRange        DateRange `json:"ad_published_date_range"`
	CountryCode           string    `json:"country_code,omitempty"`
	AdvertiserBusinessIDs []int64   `json:"advertiser_business_ids,omitempty"`
}

// AdReportRequest is the body of ad/report.
type AdReportRequest struct {
	Filters AdReportFilters `json:"filters"`
}

// Validate checks the date range.
func (r AdReportRequest) Validate() error { return r.Filters.PublishedRange.Validate() }

// CommercialContentFilters are commercial_content/query's filters.
type CommercialContentFilters struct {
	PublishedRange     DateRange `json:"content_published_date_range"`
	CreatorCountryCode string    `json:"creator_country_code,omitempty"`
	CreatorUsernames   []string  `json:"creator_usernames,omitempty"`
}

// CommercialContentQuery is the body of commercial_content/query.
type CommercialContentQuery struct {
	Filters  CommercialContentFilters `json:"filters"`
	MaxCount int                      `json:"max_count,omitempty"`
	SearchID string                   `json:"search_id,omitempty"`
}

// Validate checks the date range and page size.
func (q CommercialContentQuery) Validate() error {
	if err := q.Filters.PublishedRange.Validate(); err != nil {
		return err
	}
	return ValidateMaxCount(q.MaxCount)
}

// AdvertiserQuery is the body of advertiser/query.
type AdvertiserQuery struct {
	SearchTerm string `json:"search_term"`
	MaxCount   int    `json:"max_count,omitempty"`
}

// Validate requires a term within the length limit.
func (q AdvertiserQuery) Validate() error {
	if strings.TrimSpace(q.SearchTerm) == "" {
		return invalid("term", "advertiser search needs at least one --term")
	}
	if err := ValidateTerm(q.SearchTerm); err != nil {
		return err
	}
	return ValidateMaxCount(q.MaxCount)
}
