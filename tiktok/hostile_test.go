package tiktok

// Tests against hostile loopback servers (tiktok/apitest/hostile.go): each
// reproduces one way a server, a proxy or a compromised host can hurt the
// harvester, and checks the client's defence.

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adharvest/tiktok/api"
	"adharvest/tiktok/apitest"
)

// hostileSecret holds every character that the form, JSON and URL encodings
// spell differently.
const hostileSecret = "Zq8+s3cr3t/VALUE=&x~y"

// logs records Logf lines with the time each arrived.
type logs struct {
	mu    sync.Mutex
	lines []string
	at    []time.Time
}

func (l *logs) logf(format string, args ...any) {
	l.mu.Lock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
	l.at = append(l.at, time.Now())
	l.mu.Unlock()
}

func (l *logs) all() ([]string, []time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...), append([]time.Time(nil), l.at...)
}

// hostile starts h on loopback (with TLS when tls is set) and returns a client
// for it with the hostile secret, fastRetry, a log recorder, and cfg's
// non-zero fields applied by mod.
func hostile(t *testing.T, h http.Handler, mod func(*Config)) (*Client, *httptest.Server, *logs) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return hostileAt(t, srv, mod)
}

func hostileAt(t *testing.T, srv *httptest.Server, mod func(*Config)) (*Client, *httptest.Server, *logs) {
	t.Helper()
	l := &logs{}
	cfg := Config{APIURL: srv.URL, ClientKey: "key", ClientSecret: hostileSecret, Retry: fastRetry, Logf: l.logf}
	if srv.TLS != nil {
		cfg.HTTP = srv.Client()
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, srv, l
}

func call(c *Client) (*Response, error) {
	return c.Call(context.Background(), "ad/query", []string{"ad.id"}, map[string]any{"search_term": "x"})
}

func origin(u string) string {
	p, _ := url.Parse(u)
	return p.Scheme + "://" + p.Host
}

// 1. Redirects.

func TestRedirectOffOriginIsRefused(t *testing.T) {
	trap := apitest.NewTrap()
	trapSrv := httptest.NewServer(trap)
	defer trapSrv.Close()
	trapPort := trapSrv.Listener.Addr().(interface{ String() string }).String()
	trapPort = trapPort[strings.LastIndexByte(trapPort, ':')+1:]
	for _, tc := range []struct {
		name   string
		target string // where the hostile server redirects
		tls    bool
		token  bool // redirect the token endpoint (else the data endpoint)
		status int
	}{
		{name: "token 307 to another port", target: trapSrv.URL, token: true, status: 307},
		{name: "token 308 to another host", target: "http://localhost:" + trapPort, token: true, status: 308},
		{name: "token 307 from https to plain http", target: trapSrv.URL, tls: true, token: true, status: 307},
		{name: "data 307 to another port", target: trapSrv.URL, status: 307},
		{name: "data 308 from https to plain http", target: trapSrv.URL, tls: true, status: 308},
		{name: "data 302 to another host", target: "http://localhost:" + trapPort, status: 302},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(trap.Requests())
			var h http.Handler
			if tc.token {
				h = apitest.TokenOnly(apitest.Redirect(tc.status, tc.target), apitest.OK())
			} else {
				h = apitest.DataOnly(apitest.Redirect(tc.status, tc.target), apitest.Token(hostileSecret))
			}
			srv := httptest.NewUnstartedServer(h)
			if tc.tls {
				srv.StartTLS()
			} else {
				srv.Start()
			}
			defer srv.Close()
			c, _, _ := hostileAt(t, srv, nil)
			var err error
			if tc.token {
				err = c.CheckAuth(context.Background())
			} else {
				_, err = call(c)
			}
			if got := trap.Requests()[before:]; len(got) > 0 {
				t.Fatalf("the redirect target received %d requests, the first with Authorization %q and body %q", len(got), got[0].Authorization, got[0].Body)
			}
			var re *RedirectError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v (%T), want a *RedirectError", err, err)
			}
			want := origin(tc.target)
			if re.Target != want || !strings.Contains(err.Error(), want) {
				t.Fatalf("refused target %q in %q, want %q", re.Target, err, want)
			}
			if strings.Contains(err.Error(), want+"/") || strings.Contains(err.Error(), "fields=") {
				t.Fatalf("error repeats the target's path or query: %v", err)
			}
			if errors.Is(err, errRetryable) {
				t.Fatalf("a refused redirect is retried: %v", err)
			}
		})
	}
}

func TestRedirectSameOriginIsFollowed(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	data := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Query().Get("moved") == "" {
			q := r.URL.Query()
			q.Set("moved", "1")
			w.Header().Set("Location", r.URL.Path+"?"+q.Encode())
			w.WriteHeader(http.StatusPermanentRedirect)
			return
		}
		apitest.OK().ServeHTTP(w, r)
	})
	c, _, _ := hostile(t, apitest.DataOnly(data, apitest.Token(hostileSecret)), nil)
	if _, err := call(c); err != nil {
		t.Fatal(err)
	}
	if len(auths) != 2 || auths[1] != auths[0] || !strings.HasPrefix(auths[1], "Bearer "+apitest.HostileTokenPrefix) {
		t.Fatalf("authorization on the same-origin redirect: %q", auths)
	}
}

// 2. Reflected secrets.

// secretForms are the spellings in which a server can reflect s.
func secretForms(s string) []string {
	j, _ := json.Marshal(s)
	forms := []string{s, url.QueryEscape(s), url.PathEscape(s), strings.Trim(string(j), `"`), strings.ToUpper(s), strings.ToLower(url.QueryEscape(s))}
	return forms
}

// leaks reports the first form of secret whose first minLen or more bytes
// appear in text, compared case-insensitively.
func leaks(text string, secrets ...string) string {
	const minLen = 6
	lt := strings.ToLower(text)
	for _, s := range secrets {
		for _, f := range secretForms(s) {
			f = strings.ToLower(f)
			if len(f) >= minLen && strings.Contains(lt, f[:minLen]) {
				return f
			}
		}
	}
	return ""
}

func TestReflectedSecretsAreScrubbed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		token   bool // the token endpoint reflects (else the data endpoints)
		h       http.Handler
		redacts bool // the echo falls within the text an error keeps
	}{
		{name: "token endpoint echoes the form in error_description", token: true, h: apitest.Reflect(400, apitest.ReflectOAuth), redacts: true},
		{name: "token endpoint 502 HTML page quotes the form", token: true, h: apitest.Reflect(502, apitest.ReflectHTML)},
		{name: "token endpoint 401 echoes the form", token: true, h: apitest.Reflect(401, apitest.ReflectOAuth), redacts: true},
		{name: "data endpoint echoes the bearer token in message, code and log_id", h: apitest.Reflect(500, apitest.ReflectEnvelope), redacts: true},
		{name: "data endpoint 400 echoes the bearer token", h: apitest.Reflect(400, apitest.ReflectEnvelope), redacts: true},
		{name: "data endpoint 502 HTML page quotes the request", h: apitest.Reflect(502, apitest.ReflectHTML)},
		{name: "data endpoint 401 OAuth-shaped echo", h: apitest.Reflect(401, apitest.ReflectOAuth)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var h http.Handler
			if tc.token {
				h = apitest.TokenOnly(tc.h, apitest.OK())
			} else {
				h = apitest.DataOnly(tc.h, apitest.Token(hostileSecret))
			}
			c, _, l := hostile(t, h, nil)
			var err error
			if tc.token {
				err = c.CheckAuth(context.Background())
			} else {
				_, err = call(c)
			}
			if err == nil {
				t.Fatal("no error from a reflecting server")
			}
			lines, _ := l.all()
			texts := append([]string{err.Error()}, lines...)
			var ae *APIError
			if errors.As(err, &ae) {
				texts = append(texts, ae.Message, ae.Code, ae.LogID)
			}
			var be *BodyError
			if errors.As(err, &be) {
				texts = append(texts, be.Excerpt)
			}
			tokens := []string{apitest.HostileTokenPrefix + "1", apitest.HostileTokenPrefix + "2"}
			for _, text := range texts {
				if f := leaks(text, append(tokens, hostileSecret)...); f != "" {
					t.Fatalf("server text leaks %q: %s", f, text)
				}
			}
			if tc.redacts && !strings.Contains(err.Error(), "[REDACTED]") {
				t.Fatalf("nothing was redacted from %q", err)
			}
		})
	}
}

func TestScrub(t *testing.T) {
	c, _, _ := hostile(t, apitest.DataOnly(apitest.OK(), apitest.Token(hostileSecret)), nil)
	if _, err := call(c); err != nil {
		t.Fatal(err)
	}
	tok := apitest.HostileTokenPrefix + "1"
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "a " + hostileSecret + " b", "a [REDACTED] b"},
		{"form-encoded", "client_secret=" + url.QueryEscape(hostileSecret) + "&x=1", "client_secret=[REDACTED]&x=1"},
		{"path-encoded", "/" + url.PathEscape(hostileSecret) + "/", "/[REDACTED]/"},
		{"json-escaped", `{"s":"` + strings.Trim(string(must(json.Marshal(hostileSecret))), `"`) + `"}`, `{"s":"[REDACTED]"}`},
		{"upper case", "X" + strings.ToUpper(hostileSecret) + "X", "X[REDACTED]X"},
		{"lower-case percent escapes", strings.ToLower(url.QueryEscape(hostileSecret)), "[REDACTED]"},
		{"token held", "Authorization: Bearer " + tok, "Authorization: Bearer [REDACTED]"},
		{"twice, overlapping nothing else", hostileSecret + hostileSecret, "[REDACTED][REDACTED]"},
		{"clean text unchanged", "nothing to see", "nothing to see"},
	} {
		if got := c.Scrub(tc.in); got != tc.want {
			t.Errorf("%s: Scrub(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestExcerptNeverCutsASecretInHalf places the secret at every offset around
// the excerpt's cut: no prefix of it may survive.
func TestExcerptNeverCutsASecretInHalf(t *testing.T) {
	c, err := NewClient(Config{APIURL: "http://127.0.0.1:1", ClientKey: "k", ClientSecret: hostileSecret})
	if err != nil {
		t.Fatal(err)
	}
	for pad := 0; pad < excerptLen+len(hostileSecret)+8; pad++ {
		for _, filler := range []string{"x", " ", "\n\t"} {
			body := strings.Repeat(filler, pad) + "client_secret=" + url.QueryEscape(hostileSecret) + strings.Repeat("y", 300)
			got := c.excerpt([]byte(body))
			if f := leaks(got, hostileSecret); f != "" {
				t.Fatalf("pad %d filler %q: excerpt %q leaks %q", pad, filler, got, f)
			}
		}
	}
}

// 3. Memory bombs.

func heapPeak(t *testing.T, f func()) (peak uint64) {
	t.Helper()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			if ms.HeapAlloc > base && ms.HeapAlloc-base > peak {
				peak = ms.HeapAlloc - base
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	return peak
}

func TestGzipBombIsCutAtTheLimit(t *testing.T) {
	const inflated = 300 << 20
	t.Logf("bomb: %d bytes inflating to %d", apitest.GzipBombSize(inflated), inflated)
	hits := apitest.CountHits(apitest.DataOnly(apitest.GzipBomb(inflated), apitest.Token(hostileSecret)))
	c, _, _ := hostile(t, hits, nil)
	const workers = 8
	errs := make([]error, workers)
	var start time.Time
	peak := heapPeak(t, func() {
		start = time.Now()
		var wg sync.WaitGroup
		for i := range workers {
			wg.Go(func() { _, errs[i] = call(c) })
		}
		wg.Wait()
	})
	t.Logf("%d concurrent calls: heap peak %d MiB, %s, %d data requests", workers, peak>>20, time.Since(start).Round(time.Millisecond), hits.Get("ad/query"))
	for _, err := range errs {
		if !errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("response body larger than %d bytes", DefaultMaxBodyBytes)) {
			t.Fatalf("err = %v", err)
		}
	}
	if peak > 200<<20 {
		t.Fatalf("heap peak %d MiB for %d bombs, want under 200 MiB", peak>>20, workers)
	}
	if n := hits.Get("ad/query"); n != workers {
		t.Fatalf("%d data requests: a body over the limit must not be retried", n)
	}
}

func TestBodyLimits(t *testing.T) {
	const limit = 1 << 20
	okBody := func(size int) []byte {
		b := []byte(`{"data":{"ads":[],"has_more":false},"error":{"code":"ok","log_id":"OK1"}}`)
		return append(b, bytes.Repeat([]byte(" "), size-len(b))...)
	}
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(b)
		zw.Close()
		return buf.Bytes()
	}
	random := make([]byte, 2*limit)
	rand.Read(random)
	serve := func(body []byte, gzipped, declare bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			if gzipped {
				w.Header().Set("Content-Encoding", "gzip")
			}
			if declare {
				w.Header().Set("Content-Length", fmt.Sprint(len(body)))
			}
			w.Write(body)
		})
	}
	for _, tc := range []struct {
		name      string
		h         http.Handler
		wantErr   error  // nil: success
		wantText  string // in the error
		wantCalls int64
	}{
		{name: "body of exactly the limit is read", h: serve(okBody(limit), false, true), wantCalls: 1},
		{name: "gzip body inflating to exactly the limit is read", h: serve(gz(okBody(limit)), true, true), wantCalls: 1},
		{name: "gzip bomb", h: apitest.GzipBomb(300 << 20), wantErr: ErrBodyTooLarge, wantText: "response body larger than 1048576 bytes", wantCalls: 1},
		{name: "inflates to one byte over", h: serve(gz(okBody(limit+1)), true, true), wantErr: ErrBodyTooLarge, wantText: "response body larger than 1048576 bytes", wantCalls: 1},
		{name: "Content-Length over the limit", h: apitest.Flood(10<<20, true), wantErr: ErrBodyTooLarge, wantText: "response body larger than 1048576 bytes", wantCalls: 1},
		{name: "chunked body over the limit", h: apitest.Flood(10<<20, false), wantErr: ErrBodyTooLarge, wantText: "response body larger than 1048576 bytes", wantCalls: 1},
		{name: "compressed body over the limit", h: serve(gz(random), true, false), wantErr: ErrBodyTooLarge, wantText: "response body larger than 1048576 bytes", wantCalls: 1},
		{name: "truncated gzip is retried", h: serve(gz(okBody(4096))[:40], true, true), wantErr: errRetryable, wantText: "unexpected EOF", wantCalls: int64(fastRetry.MaxAttempts)},
		{name: "unknown Content-Encoding is unreadable", h: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Encoding", "br")
			w.Write([]byte{0x1b, 0x2f})
		}), wantErr: errRetryable, wantText: "Content-Encoding", wantCalls: int64(fastRetry.MaxAttempts)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := apitest.CountHits(apitest.DataOnly(tc.h, apitest.Token(hostileSecret)))
			c, _, _ := hostile(t, hits, func(c *Config) { c.MaxBodyBytes = limit })
			resp, err := call(c)
			if n := hits.Get("ad/query"); n != tc.wantCalls {
				t.Errorf("%d data requests, want %d", n, tc.wantCalls)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if len(resp.Body) != limit {
					t.Fatalf("body of %d bytes, want %d", len(resp.Body), limit)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.wantText) {
				t.Fatalf("err = %v, want %v mentioning %q", err, tc.wantErr, tc.wantText)
			}
			if strings.Contains(err.Error(), "unexpected end of JSON input") {
				t.Fatalf("cut body blamed on JSON: %v", err)
			}
		})
	}
}

// TestExcerptIsCutFirst: a huge unreadable body costs no more than reading it.
func TestExcerptIsCutFirst(t *testing.T) {
	body := bytes.Repeat([]byte("a "), 20<<20)
	c, err := NewClient(Config{APIURL: "http://127.0.0.1:1", ClientKey: "k", ClientSecret: hostileSecret})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	allocs := testing.AllocsPerRun(3, func() { got = c.excerpt(body) })
	if allocs > 50 || len(got) > 200 || !strings.HasPrefix(got, "a a a") {
		t.Fatalf("excerpt of a 40 MiB body: %d allocations, %q", int(allocs), got)
	}
}

// 4. Stalls.

func TestStallsAreTimedOut(t *testing.T) {
	const idle = 150 * time.Millisecond
	for _, tc := range []struct {
		name     string
		h        http.Handler
		auth     bool // CheckAuth instead of a data call
		workers  int
		mod      func(*Config)
		bound    time.Duration // the whole call must end within this
		wantText string
	}{
		{name: "body stalls after the headers", h: apitest.DataOnly(apitest.Stall(time.Minute), apitest.Token(hostileSecret)),
			bound: 3*idle + time.Second, wantText: "ad/query: no data for 150ms"},
		{name: "data endpoint sends no headers", h: apitest.DataOnly(apitest.StallHeaders(time.Minute), apitest.Token(hostileSecret)),
			mod: func(c *Config) { c.Timeout = 300 * time.Millisecond }, bound: 3*300*time.Millisecond + time.Second, wantText: "ad/query: no answer within 300ms"},
		{name: "token endpoint stalls at CheckAuth", h: apitest.TokenOnly(apitest.StallHeaders(time.Minute), apitest.OK()), auth: true,
			bound: 5*idle + time.Second, wantText: "oauth/token: no answer within 150ms"},
		{name: "token endpoint stalls for 8 workers at once", h: apitest.TokenOnly(apitest.StallHeaders(time.Minute), apitest.OK()), workers: 8,
			bound: 3*idle + time.Second, wantText: "oauth/token: no answer within 150ms"},
		{name: "the per-request bound cuts a slow attempt", h: apitest.DataOnly(apitest.Stall(time.Minute), apitest.Token(hostileSecret)),
			mod: func(c *Config) {
				c.IdleTimeout, c.Timeout = 5*time.Second, 5*time.Second
				c.Retry.MaxElapsed = 400 * time.Millisecond
			}, bound: 400*time.Millisecond + time.Second, wantText: "per-request bound of 400ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, l := hostile(t, tc.h, func(c *Config) {
				c.IdleTimeout, c.TokenTimeout, c.Timeout = idle, idle, 10*time.Second
				c.Retry.MaxAttempts = 3
				if tc.mod != nil {
					tc.mod(c)
				}
			})
			start := time.Now()
			workers := max(tc.workers, 1)
			errs := make([]error, workers)
			var wg sync.WaitGroup
			for i := range workers {
				wg.Go(func() {
					if tc.auth {
						errs[i] = c.CheckAuth(context.Background())
					} else {
						_, errs[i] = call(c)
					}
				})
			}
			wg.Wait()
			el := time.Since(start)
			lines, at := l.all()
			t.Logf("ended after %s: %v; %d log lines", el.Round(time.Millisecond), errs[0], len(lines))
			if el > tc.bound {
				t.Errorf("took %s, want at most %s", el.Round(time.Millisecond), tc.bound)
			}
			for _, err := range errs {
				if err == nil || !strings.Contains(err.Error(), tc.wantText) {
					t.Fatalf("err = %v, want it to say %q", err, tc.wantText)
				}
			}
			if strings.Contains(tc.wantText, "bound") {
				return
			}
			if len(lines) == 0 || !strings.Contains(lines[0], tc.wantText) || !strings.Contains(lines[0], "retrying") {
				t.Fatalf("no retry notice saying %q: %q", tc.wantText, lines)
			}
			if first := at[0].Sub(start); first > el/2+50*time.Millisecond {
				t.Fatalf("first notice after %s of %s: not as it happens", first, el)
			}
		})
	}
}

// 5. Auth loops.

func TestRenewedTokenRefusedIsFatal(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{
		{"access_token_invalid", apitest.Unauthorized("")},
		{"scope_not_authorized", apitest.Unauthorized("scope_not_authorized")},
		{"401 with an HTML body", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(401)
			io.WriteString(w, "<html>401 Authorization Required</html>")
		})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := apitest.CountHits(apitest.DataOnly(tc.h, apitest.Token(hostileSecret)))
			c, _, _ := hostile(t, hits, nil)
			_, err := call(c)
			var tr *TokenRefusedError
			if !errors.Is(err, ErrAuth) || !errors.As(err, &tr) {
				t.Fatalf("err = %v (%T), want a *TokenRefusedError matching ErrAuth", err, err)
			}
			msg := err.Error()
			if strings.Contains(msg, "\n") || !strings.Contains(msg, "renewed") || !strings.Contains(msg, "ad/query") {
				t.Fatalf("message %q: want one line saying the token was renewed and still refused", msg)
			}
			if errors.Is(err, errRetryable) {
				t.Fatal("a refused renewed token is retryable")
			}
			want := map[string]int64{"ad/query": 2, EndpointToken: 2}
			if got := hits.ByEndpoint(); !maps.Equal(got, want) {
				t.Fatalf("server saw %v, want %v", got, want)
			}
			if got := c.Sent(); !maps.Equal(got, want) {
				t.Fatalf("client counted %v, server saw %v", got, want)
			}
		})
	}
}

// 6. Long Retry-After.

func TestLongRetryAfterIsNotWaitedOut(t *testing.T) {
	in := func(d time.Duration) string { return time.Now().Add(d).UTC().Format(http.TimeFormat) }
	for _, tc := range []struct {
		name string
		h    http.Handler
		mod  func(*Config)
		wait time.Duration
	}{
		{name: "3600 seconds", h: apitest.RateLimited("3600"), wait: time.Hour},
		{name: "an HTTP date an hour ahead", h: apitest.RateLimited(in(time.Hour)), wait: time.Hour},
		{name: "within MaxRetryAfter but past the per-request bound", h: apitest.RateLimited("3"),
			mod: func(c *Config) { c.Retry.MaxRetryAfter, c.Retry.MaxElapsed = 5*time.Second, 2*time.Second }, wait: 3 * time.Second},
		{name: "503 with Retry-After 3600", h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "3600")
			fail(503, "internal_error")(w, r)
		}), wait: time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := apitest.CountHits(apitest.DataOnly(tc.h, apitest.Token(hostileSecret)))
			c, _, _ := hostile(t, hits, tc.mod)
			start := time.Now()
			_, err := call(c)
			el := time.Since(start)
			var rl *RetryLaterError
			if !errors.Is(err, ErrRetryLater) || !errors.As(err, &rl) {
				t.Fatalf("after %s: err = %v, want a *RetryLaterError", el, err)
			}
			if el > 500*time.Millisecond || hits.Get("ad/query") != 1 {
				t.Fatalf("waited %s and sent %d requests before giving up", el, hits.Get("ad/query"))
			}
			if rl.Endpoint != "ad/query" || rl.Wait < tc.wait-2*time.Second || rl.Wait > tc.wait {
				t.Fatalf("endpoint %q wait %s, want %s", rl.Endpoint, rl.Wait, tc.wait)
			}
			if d := rl.Until.Sub(start.Add(tc.wait)); d < -2*time.Second || d > 2*time.Second {
				t.Fatalf("until %s, want about %s", rl.Until, start.Add(tc.wait))
			}
			if LogIDOf(err) == "" || !strings.Contains(err.Error(), rl.Until.UTC().Format(time.RFC3339)) {
				t.Fatalf("message %q lacks the log_id or the time to retry", err)
			}
		})
	}
}

// 16. Counting.

func TestOnSendCountsRequestsSent(t *testing.T) {
	script := []func(http.ResponseWriter, *http.Request){
		fail(500, "internal_error"), fail(429, "rate_limit_exceeded"), fail(401, "access_token_invalid"),
		fail(429, "rate_limit_exceeded"), ok,
	}
	s := &scripted{script: script}
	hits := apitest.CountHits(s)
	srv := httptest.NewServer(hits)
	defer srv.Close()
	var sends, throttles atomic.Int64
	c, err := NewClient(Config{APIURL: srv.URL, ClientKey: "k", ClientSecret: testSecret, Retry: fastRetry,
		OnSend:     func(string) error { sends.Add(1); return nil },
		OnThrottle: func(string) { throttles.Add(1) },
	})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.Call(context.Background(), "ad/query", nil, struct{}{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"ad/query": 5, EndpointToken: 2}
	if got := hits.ByEndpoint(); !maps.Equal(got, want) {
		t.Fatalf("server saw %v, want %v", got, want)
	}
	if got := c.Sent(); !maps.Equal(got, want) {
		t.Fatalf("Sent() = %v, server saw %v", got, want)
	}
	if sends.Load() != 5 || resp.Attempts != 5 {
		t.Fatalf("OnSend ran %d times, attempts %d, for 5 data requests", sends.Load(), resp.Attempts)
	}
	if got := c.Throttled(); !maps.Equal(got, map[string]int64{"ad/query": 2}) || throttles.Load() != 2 {
		t.Fatalf("Throttled() = %v, OnThrottle ran %d times, want 2", got, throttles.Load())
	}
}

// TestNoPhantomRequests: a call cancelled while it waits for the rate limiter
// sends nothing and counts nothing, through OnSend or the deprecated
// OnRequest alike; a hook's error aborts without sending.
func TestNoPhantomRequests(t *testing.T) {
	budget := errors.New("budget spent")
	for _, tc := range []struct {
		name       string
		deprecated bool
		refuse     bool
	}{
		{name: "OnSend"},
		{name: "deprecated OnRequest", deprecated: true},
		{name: "OnSend refusing", refuse: true},
		{name: "deprecated OnRequest refusing", deprecated: true, refuse: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hits := apitest.CountHits(apitest.DataOnly(apitest.OK(), apitest.Token(hostileSecret)))
			var hooked atomic.Int64
			hook := func(string) error {
				hooked.Add(1)
				if tc.refuse {
					return budget
				}
				return nil
			}
			c, _, _ := hostile(t, hits, func(c *Config) {
				c.RPS = 0.5 // one request now, the next in two seconds
				if tc.deprecated {
					c.OnRequest = hook
				} else {
					c.OnSend = hook
				}
			})
			_, err := call(c)
			if tc.refuse {
				if !errors.Is(err, budget) || hits.Get("ad/query") != 0 || hooked.Load() != 1 || c.Sent()["ad/query"] != 0 {
					t.Fatalf("refusing hook: err %v, %d sent, hook ran %d times, Sent %v", err, hits.Get("ad/query"), hooked.Load(), c.Sent())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// Three workers stopped by Ctrl-C while they wait their turn, and
			// one whose deadline comes before its turn.
			for i := range 4 {
				ctx, cancel := context.WithCancel(context.Background())
				if i == 3 {
					ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
				} else {
					time.AfterFunc(50*time.Millisecond, cancel)
				}
				_, err = c.Call(ctx, "ad/query", nil, struct{}{})
				cancel()
				if err == nil {
					t.Fatal("a call sent before its turn")
				}
			}
			if n := hits.Get("ad/query"); n != 1 || hooked.Load() != 1 || c.Sent()["ad/query"] != 1 {
				t.Fatalf("server saw %d data requests, the hook counted %d, Sent() %v", n, hooked.Load(), c.Sent())
			}
		})
	}
}

// TestTokenBodyLimit: the token endpoint's answer, a few hundred bytes, is
// bounded far below MaxBodyBytes, inflated as well as on the wire.
func TestTokenBodyLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Handler
	}{
		{"gzip bomb", apitest.GzipBomb(10 << 20)},
		{"gzip body inflating to 500 KB", apitest.GzipBomb(500 << 10)},
		{"plain 500 KB", apitest.Flood(500<<10, false)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := hostile(t, apitest.TokenOnly(tc.h, apitest.OK()), nil)
			err := c.CheckAuth(context.Background())
			if !errors.Is(err, ErrBodyTooLarge) || !strings.Contains(err.Error(), fmt.Sprintf("larger than %d bytes", maxTokenBody)) {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestTokensThatDieEarlyAreRenewed: a service whose tokens live 100 ms while
// their expires_in says two hours, reached by requests that take 300 ms to
// go out (a queue in front of it), refuses the renewed token too. That is
// not a refusal of the credentials: only a token refused while fresh is.
func TestTokensThatDieEarlyAreRenewed(t *testing.T) {
	srv := apitest.Start(apitest.Options{TokenTTL: 100 * time.Millisecond, AdvertisedTTL: 7200})
	defer srv.Close()
	var sends atomic.Int32
	c, err := NewClient(Config{APIURL: srv.URL, ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret, Retry: DefaultRetry,
		OnSend: func(string) error {
			if sends.Add(1) <= 2 {
				time.Sleep(300 * time.Millisecond) // slow on its way: the token dies
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Call(context.Background(), api.EndpointAdvertiserQuery, []string{"business_id"}, map[string]any{"search_term": "co"}); err != nil {
		t.Fatalf("a token let die on its way was taken for refused credentials: %v", err)
	}
	if got := c.Sent(); got[api.EndpointAdvertiserQuery] != 3 || got[EndpointToken] != 3 {
		t.Fatalf("sent %v, want 3 data requests and 3 tokens (two died on their way)", got)
	}
}
