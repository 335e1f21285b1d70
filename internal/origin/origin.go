// Package origin compares URLs by origin (scheme, host and port), the unit
// within which adharvest follows a redirect: the API client never sends its
// secret or token to another origin, and the media fetcher never follows a
// creative's link off its own.
package origin

import (
	"net/url"
	"strings"
)

// Same reports whether a and b have the same scheme, host and port (a
// missing port is the scheme's own).
func Same(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && Port(a) == Port(b)
}

// Port is u's port, or its scheme's default (80, 443); "" for other schemes
// without one.
func Port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
