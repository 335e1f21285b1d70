package tiktok

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testSecret = "s3cr3t-VALUE-never-logged"

var fastRetry = RetryPolicy{Initial: time.Millisecond, Max: 5 * time.Millisecond, MaxElapsed: 5 * time.Second, MaxAttempts: 6, MaxRetryAfter: 2 * time.Second}

// scripted serves the token endpoint and answers data calls from a script,
// one entry per call; the last entry repeats.
type scripted struct {
	tokens atomic.Int32
	calls  atomic.Int32
	script []func(w http.ResponseWriter, r *http.Request)
	mu     sync.Mutex
	auths  []string
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/v2/oauth/token") {
		r.ParseForm()
		if r.Form.Get("client_secret") != testSecret {
			w.WriteHeader(401)
			io.WriteString(w, `{"error":"invalid_client","error_description":"bad secret","log_id":"TOK1"}`)
			return
		}
		n := s.tokens.Add(1)
		fmt.Fprintf(w, `{"access_token":"clt.token%d","expires_in":7200,"token_type":"Bearer"}`, n)
		return
	}
	s.mu.Lock()
	s.auths = append(s.auths, r.Header.Get("Authorization"))
	s.mu.Unlock()
	i := int(s.calls.Add(1)) - 1
	if i >= len(s.script) {
		i = len(s.script) - 1
	}
	s.script[i](w, r)
}

func ok(w http.ResponseWriter, _ *http.Request) {
	io.WriteString(w, `{"data":{"ads":[],"has_more":false},"error":{"code":"ok","log_id":"OK1","http_status_code":200}}`)
}

func fail(status int, code string, hdr ...string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, _ *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"data":{},"error":{"code":%q,"message":"msg for %s","log_id":"LOG-%s","http_status_code":%d}}`, code, code, code, status)
	}
}

func newTestClient(t *testing.T, h http.Handler, secret string) (*Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := NewClient(Config{APIURL: srv.URL, ClientKey: "key", ClientSecret: secret, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return c, srv
}

func TestCallPolicy(t *testing.T) {
	truncated := func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, `{"data":{"ads":[{"ad":`) }
	html504 := func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(504)
		io.WriteString(w, "<html><body>"+strings.Repeat("Gateway Time-out ", 100)+"</body></html>")
	}
	for _, tc := range []struct {
		name      string
		script    []func(http.ResponseWriter, *http.Request)
		wantCalls int32
		wantErr   error
		wantLog   string
	}{
		{name: "ok first time", script: []func(http.ResponseWriter, *http.Request){ok}, wantCalls: 1},
		{name: "500 then ok", script: []func(http.ResponseWriter, *http.Request){fail(500, "internal_error"), fail(503, "internal_error"), ok}, wantCalls: 3},
		{name: "429 rate limit then ok", script: []func(http.ResponseWriter, *http.Request){fail(429, "rate_limit_exceeded"), ok}, wantCalls: 2},
		{name: "truncated body then ok", script: []func(http.ResponseWriter, *http.Request){truncated, ok}, wantCalls: 2},
		{name: "html 504 then ok", script: []func(http.ResponseWriter, *http.Request){html504, ok}, wantCalls: 2},
		{name: "invalid_params never retried", script: []func(http.ResponseWriter, *http.Request){fail(400, "invalid_params")}, wantCalls: 1, wantErr: ErrInvalidParams, wantLog: "LOG-invalid_params"},
		{name: "daily quota never retried", script: []func(http.ResponseWriter, *http.Request){fail(429, "daily_quota_limit_exceeded")}, wantCalls: 1, wantErr: ErrQuota, wantLog: "LOG-daily_quota_limit_exceeded"},
		{name: "500 forever gives up bounded", script: []func(http.ResponseWriter, *http.Request){fail(500, "internal_error")}, wantCalls: int32(fastRetry.MaxAttempts), wantErr: errRetryable},
		{name: "token expired is renewed once", script: []func(http.ResponseWriter, *http.Request){fail(401, "access_token_invalid"), ok}, wantCalls: 2},
		{name: "token refused twice is auth failure", script: []func(http.ResponseWriter, *http.Request){fail(401, "access_token_invalid")}, wantCalls: 2, wantErr: ErrAuth},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{script: tc.script}
			c, _ := newTestClient(t, s, testSecret)
			resp, err := c.Call(context.Background(), "ad/query", []string{"ad.id"}, map[string]any{"x": 1})
			if got := s.calls.Load(); got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if resp.Attempts != int(tc.wantCalls) || resp.LogID != "OK1" {
					t.Fatalf("attempts %d log %q", resp.Attempts, resp.LogID)
				}
				return
			}
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantLog != "" && (LogIDOf(err) != tc.wantLog || !strings.Contains(err.Error(), tc.wantLog)) {
				t.Fatalf("log_id missing from %v", err)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "clt.token") {
				t.Fatalf("secret in error: %v", err)
			}
		})
	}
}

func TestTokenRenewalHeader(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter, *http.Request){fail(401, "access_token_invalid"), ok}}
	c, _ := newTestClient(t, s, testSecret)
	if _, err := c.Call(context.Background(), "ad/query", nil, struct{}{}); err != nil {
		t.Fatal(err)
	}
	if s.tokens.Load() != 2 || s.auths[0] != "Bearer clt.token1" || s.auths[1] != "Bearer clt.token2" {
		t.Fatalf("tokens %d auths %v", s.tokens.Load(), s.auths)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter, *http.Request){fail(429, "rate_limit_exceeded", "Retry-After", "1"), ok}}
	c, _ := newTestClient(t, s, testSecret)
	start := time.Now()
	if _, err := c.Call(context.Background(), "ad/query", nil, struct{}{}); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 900*time.Millisecond {
		t.Fatalf("retried after %s, before the server's Retry-After of 1s", el)
	}
}

func TestQuotaResetTime(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter, *http.Request){fail(429, "daily_quota_limit_exceeded")}}
	c, _ := newTestClient(t, s, testSecret)
	now := time.Date(2024, 3, 5, 17, 30, 0, 0, time.UTC)
	c.cfg.Now = func() time.Time { return now }
	_, err := c.Call(context.Background(), "ad/detail", nil, struct{}{})
	var ae *APIError
	if !errors.As(err, &ae) || !ae.ResetAt.Equal(time.Date(2024, 3, 6, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("reset %v from %v", ae, err)
	}
}

func TestWrongSecretIsAuthErrorWithoutSecret(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter, *http.Request){ok}}
	c, _ := newTestClient(t, s, "wrong-"+testSecret)
	err := c.CheckAuth(context.Background())
	if !errors.Is(err, ErrAuth) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), testSecret) || !strings.Contains(err.Error(), "TOK1") {
		t.Fatalf("message %q leaks the secret or drops the log_id", err)
	}
	if s.calls.Load() != 0 {
		t.Fatal("data endpoint called with bad credentials")
	}
}

func TestNetworkErrorHasNoURL(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter, *http.Request){ok}}
	c, srv := newTestClient(t, s, testSecret)
	if err := c.CheckAuth(context.Background()); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	_, err := c.Call(context.Background(), "ad/query", []string{"ad.id"}, struct{}{})
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	if strings.Contains(err.Error(), srv.URL) || strings.Contains(err.Error(), "fields=") {
		t.Fatalf("transport error repeats the URL: %v", err)
	}
	var ne *NetError
	if !errors.As(err, &ne) {
		t.Fatalf("err %T %v", err, err)
	}
}

func TestConcurrentWorkersShareOneRenewal(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter, *http.Request){ok}}
	c, _ := newTestClient(t, s, testSecret)
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Call(context.Background(), "ad/query", nil, struct{}{}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := s.tokens.Load(); n != 1 {
		t.Fatalf("%d token fetches for 16 concurrent calls, want 1", n)
	}
}

func TestCancelStopsRetrying(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter, *http.Request){fail(500, "internal_error")}}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c, _ := NewClient(Config{APIURL: srv.URL, ClientKey: "k", ClientSecret: testSecret, Retry: RetryPolicy{Initial: time.Hour, Max: time.Hour, MaxElapsed: 10 * time.Hour, MaxAttempts: 5}})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := c.Call(ctx, "ad/query", nil, struct{}{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestCheckAPIURL(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://open.tiktokapis.com", true},
		{"http://127.0.0.1:8080", true},
		{"http://127.5.0.1:8080", true},
		{"http://[::1]:8080", true},
		{"http://localhost:9", true},
		{"http://open.tiktokapis.com", false},
		{"http://192.168.1.5", false},
		{"https://user:pw@open.tiktokapis.com", false},
		{"ftp://x", false},
		{"not a url", false},
	} {
		_, err := CheckAPIURL(tc.url)
		if (err == nil) != tc.ok {
			t.Errorf("CheckAPIURL(%q) err = %v", tc.url, err)
		}
	}
}
