package apitest

// Hostile servers: handlers that misbehave on purpose, so that a client can be
// tested against what a broken proxy, a compromised host or an overloaded
// backend does. Each constructor returns a plain http.Handler to serve with
// httptest.NewServer; DataOnly and TokenOnly combine one with a well-behaved
// handler (Token, OK, or a Server's Handler) so that only one endpoint is
// hostile. Hits counts what a handler received, by endpoint, for tests that
// compare the client's own request counts with the server's.

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// HostileTokenPrefix starts every access token that Token issues, so that a
// test can search any output for a leaked token.
const HostileTokenPrefix = "clt.hostile-"

// EndpointOf names the endpoint a request path addresses, as the client names
// it: "/v2/oauth/token/" is EndpointToken, "/v2/research/adlib/ad/query/" is
// "ad/query". Any other path is returned unchanged.
func EndpointOf(path string) string {
	p := strings.TrimSuffix(path, "/")
	if p+"/" == TokenPath {
		return EndpointToken
	}
	if ep, ok := strings.CutPrefix(p, strings.TrimSuffix(DataPathBase, "/")+"/"); ok {
		return ep
	}
	return path
}

func isTokenPath(path string) bool { return EndpointOf(path) == EndpointToken }

// DataOnly serves the data endpoints with h and every other path (the token
// endpoint) with next.
func DataOnly(h, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isTokenPath(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// TokenOnly serves the token endpoint with h and every other path with next.
func TokenOnly(h, next http.Handler) http.Handler {
	return DataOnly(next, h)
}

// Token is a minimal well-behaved token endpoint: it issues
// HostileTokenPrefix+n for a POSTed form whose client_secret is secret (any
// client_key), and answers 401 invalid_client otherwise. The tokens are
// predictable on purpose, so that a test can look for them in any output.
func Token(secret string) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("client_secret") != secret {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"Client key or secret is incorrect.","log_id":"HOSTILE-TOKEN"}`)
			return
		}
		fmt.Fprintf(w, `{"access_token":"%s%d","expires_in":7200,"token_type":"Bearer"}`, HostileTokenPrefix, n.Add(1))
	})
}

// OK answers every request with the envelope of an empty last page, which
// every data endpoint's decoder accepts.
func OK() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"ads":[],"advertisers":[],"commercial_contents":[],"has_more":false,"search_id":""},"error":{"code":"ok","message":"","log_id":"HOSTILE-OK","http_status_code":200}}`)
	})
}

// Redirect answers every request with status (307 and 308 keep the method
// and body, so a client that follows re-sends its form or its JSON and its
// headers) and a Location of target followed by the request's own path and
// query. target is a scheme://host:port origin, typically another loopback
// server such as a Trap.
func Redirect(status int, target string) http.Handler {
	target = strings.TrimSuffix(target, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", target+r.URL.RequestURI())
		w.WriteHeader(status)
	})
}

// RedirectingToken is a token endpoint that answers 307 Temporary Redirect to
// the same path on target: a client that follows POSTs its client_secret to
// target.
func RedirectingToken(target string) http.Handler {
	return Redirect(http.StatusTemporaryRedirect, target)
}

// TrapRequest is one request a Trap received.
type TrapRequest struct {
	Method, Path, RawQuery string
	Authorization          string
	Body                   string
}

// Trap stands for a host that must never be contacted: it records every
// request it receives (with its Authorization header and body, which is where
// a secret or token would arrive) and answers 200 with a token response, so
// that a client that wrongly follows a redirect to it appears to succeed.
type Trap struct {
	mu   sync.Mutex
	reqs []TrapRequest
}

// NewTrap returns an empty Trap.
func NewTrap() *Trap { return &Trap{} }

func (t *Trap) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	t.mu.Lock()
	t.reqs = append(t.reqs, TrapRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Authorization: r.Header.Get("Authorization"), Body: string(b)})
	t.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"access_token":"clt.trap","expires_in":7200,"token_type":"Bearer","data":{"ads":[],"has_more":false},"error":{"code":"ok","log_id":"TRAP"}}`)
}

// Requests returns what the trap received so far.
func (t *Trap) Requests() []TrapRequest {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]TrapRequest(nil), t.reqs...)
}

// Shape is the form in which Reflect echoes a request.
type Shape int

const (
	// ReflectOAuth is the token endpoint's error shape: the form and the
	// Authorization header in error_description, the form again in log_id.
	ReflectOAuth Shape = iota
	// ReflectEnvelope is the data endpoints' error envelope: the request in
	// error.message and error.code, the Authorization header in log_id.
	ReflectEnvelope
	// ReflectHTML is a proxy's HTML error page that quotes the request (URL,
	// Authorization header and body) raw, not escaped.
	ReflectHTML
)

// Reflect answers every request with status and a body that echoes what the
// client sent — its form (the client secret on the token endpoint), its
// Authorization header (the access token on data endpoints) and its body —
// the way a misconfigured proxy or a debugging backend does. The form arrives
// percent-encoded and is echoed so, inside JSON strings (escaped) for the JSON
// shapes and raw as well as HTML-escaped for the HTML page, so that a client
// must scrub every spelling of a secret.
func Reflect(status int, shape Shape) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		auth := r.Header.Get("Authorization")
		body := string(b)
		switch shape {
		case ReflectOAuth:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_ = json.NewEncoder(w).Encode(map[string]string{
				"error":             "invalid_request",
				"error_description": "could not parse the request " + body + " (Authorization: " + auth + ")",
				"log_id":            body,
			})
		case ReflectEnvelope:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			env := map[string]any{"data": map[string]any{}, "error": map[string]any{
				"code": "internal_error: " + auth, "message": "upstream rejected " + r.URL.RequestURI() + " " + body + " with " + auth,
				"log_id": auth, "http_status_code": status,
			}}
			_ = json.NewEncoder(w).Encode(env)
		default:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(status)
			fmt.Fprintf(w, "<html><head><title>%d</title></head><body><h1>Bad Gateway</h1><pre>POST %s\nAuthorization: %s\n\n%s</pre><p>%s</p></body></html>",
				status, r.URL.RequestURI(), auth, body, html.EscapeString(body))
		}
	})
}

// bombPrefix starts every bomb, so that the inflated body looks like the
// beginning of a real ad/query page.
const bombPrefix = `{"data":{"ads":[`

// bombFiller fills a bomb: short whitespace-separated tokens, the worst case
// for a client that splits a whole body into fields before cutting an excerpt.
const bombFiller = "0, "

var (
	bombMu    sync.Mutex
	bombCache = map[int64][]byte{}
)

// GzipBomb answers every request with 200, Content-Encoding: gzip and a
// small body (about a thousandth of inflated) that inflates to inflated
// bytes: the start of an ad/query page followed by filler. 300 MiB inflate
// from about 300 KB. The body is a concatenation of identical gzip members,
// which every gzip reader (Go's included) reads as one stream; it is built
// once per size and cached.
func GzipBomb(inflated int64) http.Handler {
	body := gzipBomb(inflated)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	})
}

// GzipBombSize is the compressed size of GzipBomb(inflated), for tests that
// report it.
func GzipBombSize(inflated int64) int { return len(gzipBomb(inflated)) }

func gzipBomb(inflated int64) []byte {
	bombMu.Lock()
	defer bombMu.Unlock()
	if b, ok := bombCache[inflated]; ok {
		return b
	}
	const block = 1 << 20
	member := func(p []byte) []byte {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		_, _ = zw.Write(p)
		_ = zw.Close()
		return buf.Bytes()
	}
	filler := bytes.Repeat([]byte(bombFiller), block/len(bombFiller)+1)[:block]
	var out bytes.Buffer
	rest := inflated
	head := min(int64(len(bombPrefix)), rest)
	out.Write(member([]byte(bombPrefix[:head])))
	rest -= head
	full := member(filler)
	for ; rest >= block; rest -= block {
		out.Write(full)
	}
	if rest > 0 {
		out.Write(member(filler[:rest]))
	}
	b := out.Bytes()
	bombCache[inflated] = b
	return b
}

// Flood answers every request with 200 and size bytes of an endless-looking
// ad/query page, uncompressed. With declareLength the size is announced in
// Content-Length; without it the body is chunked and its size unknown until
// the end.
func Flood(size int64, declareLength bool) http.Handler {
	chunk := bytes.Repeat([]byte(bombFiller), 64<<10)
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if declareLength {
			w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		}
		w.WriteHeader(http.StatusOK)
		rest := size
		p := []byte(bombPrefix)
		for rest > 0 {
			n := min(int64(len(p)), rest)
			if _, err := w.Write(p[:n]); err != nil {
				return
			}
			rest -= n
			p = chunk
		}
	})
}

// Stall answers 200 with its headers and the first bytes of an envelope,
// flushes them, and then sends nothing more for d or until the client hangs
// up: a backend that stopped half-way. It then ends the body there (cut).
func Stall(d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, `{"data":{"ads":[`)
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		wait(r, d)
	})
}

// StallHeaders reads the request and then sends nothing at all, not even
// headers, for d or until the client hangs up; then it answers 504. As a
// token endpoint it is an identity provider that stopped answering.
func StallHeaders(d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		if wait(r, d) {
			w.WriteHeader(http.StatusGatewayTimeout)
		}
	})
}

// wait blocks for d or until the client goes away, and reports whether d
// passed.
func wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

// Unauthorized answers every request with 401 and the error envelope with
// code (access_token_invalid when empty): a token that the token endpoint
// issues but the data endpoints refuse, as for an app without access to the
// API.
func Unauthorized(code string) http.Handler {
	if code == "" {
		code = "access_token_invalid"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"data":{},"error":{"code":%q,"message":"The access token is invalid or not found in the request.","log_id":"HOSTILE-401","http_status_code":401}}`, code)
	})
}

// RateLimited answers every request with 429 rate_limit_exceeded and the
// Retry-After header retryAfter, given as the header's text: delta-seconds
// ("3600") or an HTTP date.
func RateLimited(retryAfter string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Retry-After", retryAfter)
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(w, `{"data":{},"error":{"code":"rate_limit_exceeded","message":"Too many requests, slow down.","log_id":"HOSTILE-429","http_status_code":429}}`)
	})
}

// Hits counts the requests a handler receives, by endpoint (see EndpointOf),
// before passing them on: the server's own log, to compare with the client's.
type Hits struct {
	next http.Handler
	mu   sync.Mutex
	n    map[string]int64
}

// CountHits wraps h.
func CountHits(h http.Handler) *Hits { return &Hits{next: h, n: map[string]int64{}} }

func (h *Hits) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.n[EndpointOf(r.URL.Path)]++
	h.mu.Unlock()
	h.next.ServeHTTP(w, r)
}

// Get returns how many requests endpoint received.
func (h *Hits) Get(endpoint string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[endpoint]
}

// ByEndpoint returns a copy of the counts.
func (h *Hits) ByEndpoint() map[string]int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int64, len(h.n))
	for k, v := range h.n {
		out[k] = v
	}
	return out
}
