package api

import (
	"regexp"
	"slices"
	"strings"
)

// Field is one name an endpoint's ?fields= parameter takes.
type Field struct {
	Name string
	// Optional marks a field that only the 2026-09 documentation names. The
	// live service may not serve it yet, and it answers such a request with
	// 400 invalid_params naming the field (a call that still counts against
	// the quota). A caller therefore asks for it, and when the 400 names it
	// (FieldFromInvalidParams) drops it for the rest of the run (FieldNames)
	// and asks again, so that a newer field never costs the data. A field
	// that is not Optional is never dropped: a 400 naming it is a real error.
	Optional bool
}

// fieldTable is the one place the field lists live, because the live service
// renamed ad/detail's fields to the dotted form without notice and began
// rejecting the old names (NOTES.md). Order is the order they are sent in.
var fieldTable = map[string][]Field{
	EndpointAdQuery: withNewer(
		"ad.id", "ad.first_shown_date", "ad.last_shown_date", "ad.status", "ad.status_statement",
		"ad.videos", "ad.image_urls", "ad.reach",
		"advertiser.business_id", "advertiser.business_name", "advertiser.paid_for_by",
	),
	// ad.rejection_info and advertiser.country_code are sent by ad/detail
	// only when they are asked for; country_code is valid on ad/detail only.
	// Neither is in the reference's list, so a service that refuses them
	// must not cost the details: they are Optional too.
	EndpointAdDetail: append(withNewer(
		"ad.id", "ad.first_shown_date", "ad.last_shown_date", "ad.status", "ad.status_statement",
		"ad.videos", "ad.image_urls", "ad.reach",
		"advertiser.business_id", "advertiser.business_name", "advertiser.paid_for_by",
		"advertiser.follower_count", "advertiser.avatar_url", "advertiser.profile_url",
		"ad_group.targeting_info",
	), Field{Name: "ad.rejection_info", Optional: true}, Field{Name: "advertiser.country_code", Optional: true}),
	EndpointAdReport:          required("count_time_series_by_country"),
	EndpointAdvertiserQuery:   required("business_name", "business_id", "country_code"),
	EndpointCommercialContent: required("id", "create_timestamp", "create_date", "label", "brand_names", "creator", "videos"),
}

// NewerAdFields are the ad fields the 2026-09 documentation added to ad/query
// and ad/detail. They are Optional in both lists.
var NewerAdFields = []string{"ad.title", "ad.external_url", "ad.download_url", "ad.call_to_action", "ad.advertising_objective"}

func required(names ...string) []Field {
	out := make([]Field, len(names))
	for i, n := range names {
		out[i] = Field{Name: n}
	}
	return out
}

func withNewer(names ...string) []Field {
	out := required(names...)
	for _, n := range NewerAdFields {
		out = append(out, Field{Name: n, Optional: true})
	}
	return out
}

// The lists without the Optional fields, for callers that cannot drop a field
// on a 400 (they would otherwise lose every call to a service that does not
// know a newer field). A caller that probes uses FieldNames instead.
var (
	AdQueryFields          = RequiredFieldNames(EndpointAdQuery)
	AdDetailFields         = RequiredFieldNames(EndpointAdDetail)
	AdReportFields         = RequiredFieldNames(EndpointAdReport)
	AdvertiserQueryFields  = RequiredFieldNames(EndpointAdvertiserQuery)
	CommercialContentField = RequiredFieldNames(EndpointCommercialContent)
)

// Fields returns a copy of the fields an endpoint takes, Optional ones
// included; nil for an unknown endpoint.
func Fields(endpoint string) []Field { return slices.Clone(fieldTable[endpoint]) }

// FieldNames builds the ?fields= list of an endpoint: every field, Optional
// ones included, except the Optional fields in dropped (those the service
// refused so far in this run). A name in dropped that is not Optional is
// kept: only a newer field may be given up.
func FieldNames(endpoint string, dropped map[string]bool) []string {
	var out []string
	for _, f := range fieldTable[endpoint] {
		if f.Optional && dropped[f.Name] {
			continue
		}
		out = append(out, f.Name)
	}
	return out
}

// RequiredFieldNames is the ?fields= list of an endpoint without any Optional
// field.
func RequiredFieldNames(endpoint string) []string {
	var out []string
	for _, f := range fieldTable[endpoint] {
		if !f.Optional {
			out = append(out, f.Name)
		}
	}
	return out
}

// IsOptionalField reports whether name is an Optional field of endpoint, the
// only kind a caller may drop when a 400 names it.
func IsOptionalField(endpoint, name string) bool {
	for _, f := range fieldTable[endpoint] {
		if f.Name == name {
			return f.Optional
		}
	}
	return false
}

// knownField reports whether name is a field of any endpoint.
func knownField(name string) bool {
	for _, fs := range fieldTable {
		for _, f := range fs {
			if f.Name == name {
				return true
			}
		}
	}
	return false
}

// listMarker starts the part of a 400 message that lists the fields the
// endpoint does take, or suggests one: a field named there is not the one
// refused. The \b keeps "invalid fields" from reading as "valid fields".
var listMarker = regexp.MustCompile(`\b(?:supported|valid|allowed|available|known|accepted|permitted) fields\b|\bmust be one of\b|\bexpected one of\b|\bone of:|\bdid you mean\b`)

var (
	// a dotted field name anywhere: "fields: ad.title is not a valid field".
	dottedField = regexp.MustCompile(`[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+`)
	// a quoted name: `Invalid fields: "ad.title" is not a supported field`.
	quotedField = regexp.MustCompile("[\"'`\u201c\u2018]([a-z0-9_.]{1,64})[\"'`\u201d\u2019]")
	// a bare name after a "field" label: "invalid field(s): label", "field: videos".
	labelledField = regexp.MustCompile(`fields?(?:\(s\))?\s*(?:[:=]|\bnamed\b)?\s*\[?\s*([a-z_][a-z0-9_.]*)`)
)

// FieldFromInvalidParams returns the field a 400 invalid_params message says
// the service refused, so that a caller can drop it if it is Optional and ask
// again. It recognises a field named in the message's own words (dotted, as in
// "Invalid parameters: fields: ad.title is not a valid field" or
// "invalid field(s): ad.title"; quoted; or right after a "field(s):" label)
// and ignores the list of fields the service does take, if the message adds
// one ("…; supported fields are …"). Only names that some endpoint takes are
// returned, so that a filter name ("ad_published_date_range.min") or a word is
// never mistaken for a field. ok is false when the message names none (for
// example "Search Id … is invalid or expired"). When it names several, the
// first is returned; the caller drops it and the next 400 names the next.
func FieldFromInvalidParams(msg string) (field string, ok bool) {
	m := strings.ToLower(msg)
	if ix := listMarker.FindStringIndex(m); ix != nil {
		m = m[:ix[0]]
	}
	best := -1
	consider := func(name string, at int) {
		name = strings.TrimRight(name, ".")
		if knownField(name) && (best < 0 || at < best) {
			best, field = at, name
		}
	}
	for _, ix := range dottedField.FindAllStringIndex(m, -1) {
		consider(m[ix[0]:ix[1]], ix[0])
	}
	for _, ix := range quotedField.FindAllStringSubmatchIndex(m, -1) {
		consider(m[ix[2]:ix[3]], ix[2])
	}
	for _, ix := range labelledField.FindAllStringSubmatchIndex(m, -1) {
		consider(m[ix[2]:ix[3]], ix[2])
	}
	return field, best >= 0
}
