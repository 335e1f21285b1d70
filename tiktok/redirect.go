package tiktok

import (
	web "adharvest/internal/origin"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// maxRedirects bounds a chain of same-origin redirects.
const maxRedirects = 3

// redirectPolicy is the client's http.Client.CheckRedirect. The API documents
// no redirect, and a redirect is how a hostile or misconfigured server (or a
// captive portal) would harvest credentials: Go's client re-POSTs the form,
// client_secret included, on a 307 or 308 to any host, and keeps the
// Authorization header for a redirect to the same host on another port or
// scheme. So a redirect is followed only within the API's own origin (same
// scheme, host and port, which also rules out a downgrade from https to
// http), at most maxRedirects times; any other is refused before anything is
// sent to its target, with a *RedirectError naming the target's origin.
// next is a CheckRedirect of the caller's own http.Client, consulted after.
func redirectPolicy(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		if !web.Same(req.URL, first) {
			status := 0
			if req.Response != nil {
				status = req.Response.StatusCode
			}
			return &RedirectError{StatusCode: status, Target: originOf(req.URL), Origin: originOf(first)}
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects within %s", len(via), originOf(first))
		}
		if next != nil {
			return next(req, via)
		}
		return nil
	}
}

// originOf is scheme://host:port, never a path, query or user info.
func originOf(u *url.URL) string {
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return strings.ToLower(u.Scheme) + "://" + host + ":" + web.Port(u)
}

// redirectRefused returns the *RedirectError in a transport error, completed
// with the endpoint and scrubbed (the target's host is server text too).
func (c *Client) redirectRefused(endpoint string, err error) (*RedirectError, bool) {
	var re *RedirectError
	if !errors.As(err, &re) {
		return nil, false
	}
	out := *re
	out.Endpoint = endpoint
	out.Target = c.text(out.Target, messageLen)
	return &out, true
}
