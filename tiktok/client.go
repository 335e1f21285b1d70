// Package tiktok is the client of TikTok's Commercial Content API: one shared
// client-credentials token (token.go), one request rate, and one retry policy
// (retry.go) that decides from the status and the body's error.code whether a
// failure is retried, renews the token, stops the crawl resumably or fails now.
// Its errors are typed (errors.go) so that callers branch with errors.Is/As,
// and they never carry the client secret, a token or a request URL.
package tiktok

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
	"strings"
	"time"

	"adharvest/tiktok/api"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/time/rate"
)

// DefaultAPIURL is the real service.
const DefaultAPIURL = "https://open.tiktokapis.com"

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
	p := c.cfg.Retry
	p.MaxAttempts = 5
	_, err := p.do(ctx, func(err error, wait time.Duration) {
		c.cfg.Logf("retrying the token request in %s: %v", wait.Round(time.Millisecond), err)
	}, func() error {
		_, err := c.tokens.get(ctx)
		return err
	})
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

	var resp *Response
	renewed := false
	notify := func(err error, wait time.Duration) {
		c.cfg.Logf("retrying %s in %s: %v", endpoint, wait.Round(time.Millisecond), err)
	}
	attempts, err := c.cfg.Retry.do(ctx, notify, func() error {
		r, err := c.attempt(ctx, endpoint, u.String(), payload)
		if err == nil {
			resp = r
			return nil
		}
		if tokenRefused(err) {
			if !renewed {
				// A token can die early (revoked, clock skew): renew and retry now.
				renewed = true
				return retryNow{err}
			}
			// The token fetched for this very attempt was refused too.
			return fmt.Errorf("%w: token renewed and still refused: %w", ErrAuth, err)
		}
		renewed = false // only consecutive refusals mean the credentials are bad
		return err
	})
	if err != nil {
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

// tokenRefused reports whether a data call was refused for its token.
func tokenRefused(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Code == "access_token_invalid" || (ae.HTTPStatus == 401 && ae.Code == ""))
}
