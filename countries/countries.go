// Package countries knows which ISO 3166-1 alpha-2 codes the Commercial Content
// API serves, which aliases (EU, EEA, ALL) expand to which sets, and which sets
// each endpoint accepts. The API documentation lists Switzerland in prose but not
// in its table of supported countries, so CH is deliberately not accepted: a
// harvest that asked for it would spend quota on requests the API rejects.
package countries

import (
	"fmt"
	"slices"
	"strings"
)

// EU27 is the European Union as the API's country table lists it.
var EU27 = []string{
	"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
	"IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}

// EEAOnly are the EEA members outside the EU.
var EEAOnly = []string{"IS", "LI", "NO"}

// GB is listed by the API under "continental Europe"; ads and ad reports serve it,
// commercial content does not.
const GB = "GB"

// EEA is EU27 plus Iceland, Liechtenstein and Norway, sorted.
var EEA = sorted(append(slices.Clone(EU27), EEAOnly...))

// All is every country the ad endpoints serve: the EEA plus GB, sorted.
var All = sorted(append(slices.Clone(EEA), GB))

// AllCode is the API's own country value for every country at once: one
// query answers for all of them, each ad once.
const AllCode = "ALL"

var names = map[string]string{
	"AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Cyprus",
	"CZ": "Czech Republic", "DK": "Denmark", "EE": "Estonia", "FI": "Finland", "FR": "France",
	"DE": "Germany", "GR": "Greece", "HU": "Hungary", "IE": "Ireland", "IT": "Italy",
	"LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg", "MT": "Malta", "NL": "Netherlands",
	"PL": "Poland", "PT": "Portugal", "RO": "Romania", "SK": "Slovakia", "SI": "Slovenia",
	"ES": "Spain", "SE": "Sweden", "NO": "Norway", "IS": "Iceland", "LI": "Liechtenstein",
	"GB": "United Kingdom",
}

// aliases maps user-facing spellings of common codes to the API's code. Greece is
// "GR" in the API although its EU protocol code is "EL", and the UK is "GB".
var aliases = map[string]string{"EL": "GR", "UK": "GB"}

// Name returns the English name of a supported code, or "" for an unknown one.
// The API reports rejection regions as names ("Austria") as well as codes, so the
// reverse lookup lives here too (see Code).
func Name(code string) string { return names[code] }

// Code returns the code for an English country name as the API writes it in
// rejection_info.affected_countries, or for a code itself. ok is false when the
// text is neither.
func Code(nameOrCode string) (code string, ok bool) {
	s := strings.TrimSpace(nameOrCode)
	u := strings.ToUpper(s)
	if _, ok := names[u]; ok {
		return u, true
	}
	for c, n := range names {
		if strings.EqualFold(n, s) {
			return c, true
		}
	}
	if strings.EqualFold(s, "Republic of Cyprus") {
		return "CY", true
	}
	return "", false
}

// Endpoint scopes: which countries an endpoint's country filter accepts.
type Scope int

const (
	// ScopeAds covers ad/query and ad/report: EEA plus GB.
	ScopeAds Scope = iota
	// ScopeCommercial covers commercial_content/query: EEA only.
	ScopeCommercial
)

// Allowed reports whether code is served under scope.
func (s Scope) Allowed(code string) bool {
	switch s {
	case ScopeCommercial:
		return slices.Contains(EEA, code)
	default:
		return code == AllCode || slices.Contains(All, code)
	}
}

// UnknownError names a code that is neither a supported country nor an alias.
type UnknownError struct{ Code string }

func (e *UnknownError) Error() string {
	return fmt.Sprintf("unknown country %q: use ISO codes from %s, or EEA, EU or ALL", e.Code, strings.Join(All, ","))
}

// Parse expands a comma-separated list of codes and aliases into a sorted,
// de-duplicated list of codes. EEA and EU expand to their members; ALL is the
// API's own value and stays as it is (one query for every country at once),
// absorbing any code listed with it. An empty list means EEA, the documented
// default. Codes are case-insensitive.
func Parse(list string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(cs ...string) {
		for _, c := range cs {
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
	}
	parts := strings.Split(list, ",")
	if strings.TrimSpace(list) == "" {
		parts = []string{"EEA"}
	}
	for _, p := range parts {
		c := strings.ToUpper(strings.TrimSpace(p))
		if a, ok := aliases[c]; ok {
			c = a
		}
		switch {
		case c == "":
			continue
		case c == "EEA":
			add(EEA...)
		case c == "EU":
			add(EU27...)
		case c == AllCode:
			add(AllCode)
		case slices.Contains(All, c):
			add(c)
		default:
			return nil, &UnknownError{Code: strings.TrimSpace(p)}
		}
	}
	if seen[AllCode] {
		return []string{AllCode}, nil
	}
	return sorted(out), nil
}

// Split partitions codes into those scope accepts and those it does not, keeping order.
// ALL is every country the scope serves (commercial content has no ALL).
func Split(codes []string, scope Scope) (ok, skipped []string) {
	for _, c := range codes {
		if c == AllCode && scope == ScopeCommercial {
			ok = append(ok, EEA...)
			continue
		}
		if scope.Allowed(c) {
			ok = append(ok, c)
		} else {
			skipped = append(skipped, c)
		}
	}
	return ok, skipped
}

func sorted(s []string) []string { slices.Sort(s); return s }
