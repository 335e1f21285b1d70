// Package harvest turns a job (datasets × countries × date windows × terms) into
// API requests and durable rows. It holds the HTTP client with its token,
// retry, rate and quota policy (client.go), the planner that splits a job into
// shards (plan.go), the pager that walks search_id chains (page.go) and the crawl
// loop that commits pages through the checkpoint (crawl.go).
package harvest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"adharvest/harvest/api"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/time/rate"
)

// DefaultAPIURL is the real service.
const DefaultAPIURL = "https://open.tiktokapis.com"

// RetryPolicy bounds how long one request may be retried. Tests shrink it.
type RetryPolicy struct {
	Initial       time.Duration // first backoff
	Max           time.Duration // cap on one wait
	MaxElapsed    time.Duration // give up after this long
	MaxAttempts   int           // and after this many attempts
	MaxRetryAfter time.Duration // cap on an honoured Retry-After
}

// DefaultRetry is the production policy: a transient outage of a few minutes is
// ridden out; anything longer fails the shard, which the next run retries.
var DefaultRetry = RetryPolicy{Initial: time.Second, Max: time.Minute, MaxElapsed: 10 * time.Minute, MaxAttempts: 12, MaxRetryAfter: 5 * time.Minute}

// Config configures a Client.
type Config struct {
	APIURL       string
	ClientKey    string
	ClientSecret string
	// RPS is the shared request rate across all workers; 0 means unlimited.
	RPS float64
	// Timeout bounds one HTTP attempt.
	Timeout time.Duration
	Retry   RetryPolicy
	// OnRequest runs before every data request attempt, retries included, since
	// the API counts failed calls against the quota too. An error aborts the call
	// without sending it (a spent budget).
	OnRequest func(endpoint string) error
	// Logf receives retry notices. Messages never contain secrets.
	Logf func(format string, args ...any)
	// HTTP overrides the transport, for tests.
	HTTP *http.Client
	// Now is the clock, for tests.
	Now func() time.Time
}

// Client calls the Commercial Content API. It is safe for concurrent use: all
// workers share one token, one rate limiter and one retry policy.
type Client struct {
	cfg     Config
	base    *url.URL
	http    *http.Client
	limiter *rate.Limiter
	tokens  *tokenSource
}

// CheckAPIURL refuses URLs that would leak the token: plain http is allowed only
// to a loopback host, and URLs carrying credentials are refused outright.
func CheckAPIURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("--api-url %q is not an absolute URL like %s", raw, DefaultAPIURL)
	}
	if u.User != nil {
		return nil, fmt.Errorf("--api-url must not carry credentials; pass them as TIKTOK_CLIENT_KEY / TIKTOK_CLIENT_SECRET")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("--api-url %s uses plain http to a non-loopback host; use https (plain http is only allowed for 127.0.0.1, ::1 or localhost)", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("--api-url %q must use https", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// NewClient checks the configuration; it sends nothing.
func NewClient(cfg Config) (*Client, error) {
	if cfg.APIURL == "" {
		cfg.APIURL = DefaultAPIURL
	}
	base, err := CheckAPIURL(cfg.APIURL)
	if err != nil {
		return nil, err
	}
	if cfg.ClientKey == "" || cfg.ClientSecret == "" {
		return nil, errors.New("missing credentials: set TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET (or --client-key and --client-secret-file)")
	}
	if cfg.Retry == (RetryPolicy{}) {
		cfg.Retry = DefaultRetry
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 90 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	hc := cfg.HTTP
	if hc == nil {
		hc = &http.Client{}
	}
	lim := rate.NewLimiter(rate.Inf, 1)
	if cfg.RPS > 0 {
		lim = rate.NewLimiter(rate.Limit(cfg.RPS), 1)
	}
	c := &Client{cfg: cfg, base: base, http: hc, limiter: lim}
	c.tokens = &tokenSource{c: c}
	return c, nil
}

// SetLogf replaces the retry logger.
func (c *Client) SetLogf(logf func(format string, args ...any)) {
	if logf != nil {
		c.cfg.Logf = logf
	}
}

// CheckAuth fetches a token, so that refused credentials fail before anything
// else happens. It spends no data-request quota.
func (c *Client) CheckAuth(ctx context.Context) error {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval, bo.MaxElapsedTime = c.cfg.Retry.Initial, c.cfg.Retry.Max, c.cfg.Retry.MaxElapsed
	err := backoff.RetryNotify(func() error {
		_, err := c.tokens.get(ctx)
		return err
	}, backoff.WithContext(backoff.WithMaxRetries(bo, 4), ctx), func(err error, wait time.Duration) {
		c.cfg.Logf("retrying the token request in %s: %v", wait.Round(time.Millisecond), err)
	})
	var pe *backoff.PermanentError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Response is one successful data response.
type Response struct {
	// Body is the exact response body, kept raw on disk so that a schema change
	// can be re-parsed without spending quota again.
	Body []byte
	// Data is the envelope's data object.
	Data  json.RawMessage
	LogID string
	// Attempts counts the requests this response cost, retries included.
	Attempts int
}

// Call POSTs body to endpoint with the given fields and returns the data of the
// first successful response. It retries what is transient (5xx, 429 rate limit,
// network errors, unreadable bodies) with jittered exponential backoff honouring
// Retry-After, renews the token once on 401, and returns at once on
// invalid_params, a spent quota, refused credentials or a cancelled context.
func (c *Client) Call(ctx context.Context, endpoint string, fields []string, body any) (*Response, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%s: encode request: %w", endpoint, err)
	}
	u := *c.base
	u.Path += "/v2/research/adlib/" + endpoint + "/"
	if len(fields) > 0 {
		u.RawQuery = "fields=" + strings.Join(fields, ",")
	}

	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval = c.cfg.Retry.Initial
	bo.MaxInterval = c.cfg.Retry.Max
	bo.MaxElapsedTime = c.cfg.Retry.MaxElapsed
	bo.RandomizationFactor = 0.5
	ra := &retryAfter{BackOff: bo, max: c.cfg.Retry.MaxRetryAfter}
	var policy backoff.BackOff = ra
	if c.cfg.Retry.MaxAttempts > 0 {
		policy = backoff.WithMaxRetries(ra, uint64(c.cfg.Retry.MaxAttempts-1))
	}

	var resp *Response
	attempts, renewed := 0, false
	op := func() error {
		attempts++
		r, err := c.attempt(ctx, endpoint, u.String(), payload)
		if err == nil {
			resp = r
			return nil
		}
		ra.wait = 0
		var ae *APIError
		if errors.As(err, &ae) {
			ra.wait = ae.RetryAfter
			if ae.Code == "access_token_invalid" || (ae.HTTPStatus == 401 && ae.Code == "") {
				if !renewed {
					// A token can die early (revoked, clock skew): renew and retry now.
					renewed = true
					ra.now = true
					return err
				}
				// The token fetched for this very attempt was refused too.
				return backoff.Permanent(fmt.Errorf("%w: token renewed and still refused: %w", ErrAuth, err))
			}
		}
		renewed = false // only consecutive refusals mean the credentials are bad
		if ctx.Err() != nil {
			return backoff.Permanent(ctx.Err())
		}
		var pe *backoff.PermanentError
		if !errors.As(err, &pe) && errors.Is(err, errRetryable) {
			return err
		}
		if pe != nil {
			return err
		}
		return backoff.Permanent(err)
	}
	notify := func(err error, wait time.Duration) {
		c.cfg.Logf("retrying %s in %s: %v", endpoint, wait.Round(time.Millisecond), err)
	}
	err = backoff.RetryNotify(op, backoff.WithContext(policy, ctx), notify)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return nil, ctx.Err()
		}
		if errors.Is(err, errRetryable) {
			err = fmt.Errorf("gave up after %d attempts: %w", attempts, err)
		}
		return nil, err
	}
	resp.Attempts = attempts
	return resp, nil
}

// attempt sends one request.
func (c *Client) attempt(ctx context.Context, endpoint, u string, payload []byte) (*Response, error) {
	if c.cfg.OnRequest != nil {
		if err := c.cfg.OnRequest(endpoint); err != nil {
			return nil, backoff.Permanent(err)
		}
	}
	if err := c.limiter.Wait(ctx); err != nil {
		return nil, ctx.Err()
	}
	token, err := c.tokens.get(ctx)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "adharvest")
	res, err := c.http.Do(req)
	if err != nil {
		return nil, scrubURLError(endpoint, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return nil, &BodyError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Excerpt: excerpt(body), Err: scrubURLError(endpoint, err)}
	}
	env, err := api.DecodeEnvelope(body)
	if err != nil {
		if res.StatusCode == http.StatusUnauthorized {
			c.tokens.invalidate(token)
			return nil, &APIError{Endpoint: endpoint, HTTPStatus: res.StatusCode}
		}
		return nil, &BodyError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Excerpt: excerpt(body), Err: err}
	}
	code := env.Error.Code
	if res.StatusCode == http.StatusOK && (code == "ok" || code == "") {
		if len(env.Data) == 0 || string(env.Data) == "null" {
			return nil, &BodyError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Excerpt: excerpt(body), Err: errors.New("envelope has no data")}
		}
		return &Response{Body: body, Data: env.Data, LogID: env.Error.LogID}, nil
	}
	ae := &APIError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Code: code, Message: api.Clean(env.Error.Message), LogID: env.Error.LogID}
	if ae.HTTPStatus == http.StatusOK {
		ae.HTTPStatus = env.Error.HTTPStatusCode
	}
	ae.RetryAfter = parseRetryAfter(res.Header.Get("Retry-After"), c.cfg.Now())
	if ae.Code == "access_token_invalid" || res.StatusCode == http.StatusUnauthorized {
		c.tokens.invalidate(token)
	}
	if errors.Is(ae, ErrQuota) {
		ae.ResetAt = NextUTCMidnight(c.cfg.Now())
		if ae.RetryAfter > 0 {
			ae.ResetAt = c.cfg.Now().Add(ae.RetryAfter).UTC()
		}
	}
	return nil, ae
}

// parseRetryAfter reads delta-seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// retryAfter lets one attempt's Retry-After (or an immediate retry after a
// token renewal) override the exponential schedule for the next wait.
type retryAfter struct {
	backoff.BackOff
	wait time.Duration
	max  time.Duration
	now  bool
}

func (r *retryAfter) NextBackOff() time.Duration {
	next := r.BackOff.NextBackOff()
	if next == backoff.Stop {
		return next
	}
	if r.now {
		r.now = false
		return 0
	}
	if r.wait > next {
		w := r.wait
		if r.max > 0 && w > r.max {
			w = r.max
		}
		return w
	}
	return next
}

// tokenSource holds the one client-credentials token all workers share. Renewal
// happens under the lock, so concurrent workers that find the token stale wait
// for a single renewal instead of each fetching their own.
type tokenSource struct {
	c      *Client
	mu     sync.Mutex
	token  string
	expiry time.Time
	ttl    time.Duration
}

func (t *tokenSource) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.c.cfg.Now()
	if t.token != "" && now.Add(renewMargin(t.ttl)).Before(t.expiry) {
		return t.token, nil
	}
	tok, ttl, err := t.c.fetchToken(ctx)
	if err != nil {
		return "", err
	}
	t.token, t.ttl, t.expiry = tok, ttl, now.Add(ttl)
	return tok, nil
}

// renewMargin renews five minutes early, or a fifth of a short lifetime early.
func renewMargin(ttl time.Duration) time.Duration {
	return min(5*time.Minute, ttl/5)
}

func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	if t.token == tok {
		t.token = ""
	}
	t.mu.Unlock()
}

// fetchToken runs the client-credentials grant. Its errors never include the
// form body (which holds the secret) or the URL.
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	const endpoint = "oauth/token"
	form := url.Values{"client_key": {c.cfg.ClientKey}, "client_secret": {c.cfg.ClientSecret}, "grant_type": {"client_credentials"}}
	u := *c.base
	u.Path += "/v2/oauth/token/"
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := c.http.Do(req)
	if err != nil {
		return "", 0, scrubURLError(endpoint, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	var tr api.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return "", 0, &BodyError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Excerpt: excerpt(body), Err: err}
	}
	if res.StatusCode != http.StatusOK || tr.AccessToken == "" {
		ae := &APIError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Code: tr.Error, Message: tr.ErrorDescription, LogID: tr.LogID}
		if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden || tr.Error == "invalid_client" {
			return "", 0, backoff.Permanent(fmt.Errorf("%w: the token endpoint refused the client key and secret; check TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET: %w", ErrAuth, ae))
		}
		if res.StatusCode >= 500 || res.StatusCode == http.StatusTooManyRequests {
			return "", 0, &NetError{Endpoint: endpoint, Err: ae}
		}
		return "", 0, backoff.Permanent(ae)
	}
	ttl := time.Duration(tr.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = 2 * time.Hour
	}
	return tr.AccessToken, ttl, nil
}
