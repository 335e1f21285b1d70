package media

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxURLLen is the longest link this package fetches; a longer one is failed
// without a request.
const MaxURLLen = 8 << 10

// CheckURL applies tiktok.CheckAPIURL's rule to a media link (without
// importing the API client): https, or plain http to a loopback host only
// (127.0.0.0/8, ::1, localhost), and no user info. The error says why not.
func CheckURL(raw string) (*url.URL, error) {
	if len(raw) > MaxURLLen {
		return nil, refusedf("refused: the link is longer than %d bytes", MaxURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, refusedf("refused: not an absolute URL")
	}
	if u.User != nil {
		return nil, refusedf("refused: the link carries user info")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, refusedf("refused: plain http to a non-loopback host (%s)", hostText(u))
		}
	default:
		return nil, refusedf("refused: scheme %q is not https", u.Scheme)
	}
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hostText is a URL's host for messages, cut short.
func hostText(u *url.URL) string {
	h := u.Hostname()
	if len(h) > 80 {
		h = h[:80] + "…"
	}
	return h
}

// isPageLink reports a link to a TikTok page (www.tiktok.com/@user/video/…),
// which is a web page, not a media file.
func isPageLink(u *url.URL) bool {
	h := strings.ToLower(u.Hostname())
	return h == "tiktok.com" || strings.HasSuffix(h, ".tiktok.com")
}

// fileLink parses a field's value as a media link: ok is false for an empty
// value, something that is not an absolute URL, and a page link. A link that
// CheckURL refuses is still a link (it is listed, and failed).
func fileLink(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Scheme == "" || isPageLink(u) {
		return "", false
	}
	return s, true
}

// signingParams are the query parameters that sign a link without naming
// the object: two links that differ only in them are the same object.
var signingParams = []string{"x-expires", "x-signature"}

// objectKey identifies the object a link points at: the link without its
// signature, with the rest of its query in a fixed order.
func objectKey(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	q := u.Query()
	for k := range q {
		if slices.Contains(signingParams, strings.ToLower(k)) {
			delete(q, k)
		}
	}
	u.RawQuery = q.Encode() // sorted by key
	u.Fragment, u.RawFragment = "", ""
	u.Scheme, u.Host = strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	return u.String()
}

// expiresAt is a link's x-expires (Unix seconds); ok is false without one.
func expiresAt(raw string) (time.Time, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return time.Time{}, false
	}
	for k, vs := range u.Query() {
		if strings.EqualFold(k, "x-expires") && len(vs) > 0 {
			n, err := strconv.ParseInt(vs[0], 10, 64)
			if err != nil || n <= 0 {
				return time.Time{}, false
			}
			return time.Unix(n, 0).UTC(), true
		}
	}
	return time.Time{}, false
}

// hostOf is a link's host, lowercase, "" when it has none.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Hostname())
}
