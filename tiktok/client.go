// Package tiktok is the client of TikTok's Commercial Content API: one shared
// client-credentials token (token.go), one request rate, fixed or learned from
// the server's answers (rate.go), and one retry policy (retry.go) that decides
// from the status and the body's error.code whether a failure is retried,
// renews the token, stops the crawl resumably or fails now.
// Its errors are typed (errors.go) so that callers branch with errors.Is/As.
//
// The client assumes the server may be hostile or broken, and bounds what it
// can cost:
//
//   - Time. One data attempt ends Config.Timeout (90 s) after it is sent, or
//     as soon as the body sends no byte for Config.IdleTimeout (30 s); one
//     token request ends after Config.TokenTimeout (30 s). Each cut is logged
//     through Config.Logf as it happens ("ad/query: no data for 30s …;
//     retrying …"). One request (Call, CheckAuth), retries, rate-limit waits
//     and token renewals included, ends within RetryPolicy.MaxElapsed of its
//     start (10 min with DefaultRetry): an attempt in flight is cut at that
//     bound and no retry starts past it. A Retry-After longer than
//     RetryPolicy.MaxRetryAfter (5 min), or one that would end past the bound,
//     is not waited out: the request returns a *RetryLaterError
//     (ErrRetryLater) at once, saying when to come back.
//   - Memory. A body is read to at most Config.MaxBodyBytes (64 MiB), counted
//     both on the wire and inflated (the client asks for and inflates gzip
//     itself), and only one body at a time may grow past 1 MiB, so that N
//     workers hold at most about N MiB + MaxBodyBytes of bodies. A body over
//     the limit fails with ErrBodyTooLarge ("response body larger than N
//     bytes") and is not retried. Error excerpts are cut before anything else
//     is done with a body.
//   - Credentials. A redirect is followed only within the API's own origin
//     (same scheme, host and port, so never from https to http); any other is
//     refused before its target hears anything (*RedirectError). The client
//     secret and every token the client has held are scrubbed from all server
//     text (messages, codes, log ids, body excerpts, transport errors) before
//     it enters an error or a log line; Client.Scrub does the same for
//     callers. Errors never carry a request URL.
//   - Requests. Config.OnSend runs once for every data request actually sent,
//     after the rate limiter's wait, and can refuse it (a spent budget);
//     Client.Sent and Client.Throttled count what was sent and what the
//     server throttled, per endpoint, token requests included, so that a
//     summary can agree with the server's own log.
package tiktok

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"adharvest/tiktok/api"

	"golang.org/x/time/rate"
)

// DefaultAPIURL is the real service.
const DefaultAPIURL = "https://open.tiktokapis.com"

// EndpointToken names the token endpoint in Client.Sent, Client.Throttled,
// Config.OnThrottle and errors; data endpoints are named by their path below
// /v2/research/adlib/ ("ad/query").
const EndpointToken = "oauth/token"

// Default per-attempt timeouts (see the package doc for how they add up).
const (
	// DefaultTimeout bounds one data attempt, from sending it to the last
	// byte of its answer. The API can take long to start answering a big
	// query, so this is generous; silence once the body flows is cut sooner
	// by DefaultIdleTimeout.
	DefaultTimeout = 90 * time.Second
	// DefaultIdleTimeout ends a data attempt whose body sends no byte for
	// this long.
	DefaultIdleTimeout = 30 * time.Second
	// DefaultTokenTimeout bounds one token request, answer included. The
	// token endpoint answers in well under a second; every worker waits on it.
	DefaultTokenTimeout = 30 * time.Second
)

// Config configures a Client. Zero values take the defaults.
type Config struct {
	APIURL       string
	ClientKey    string
	ClientSecret string
	// RPS is the shared request rate across all workers; 0 means unlimited.
	// With AutoRate it is the cap of the learned rate (0: none).
	RPS float64
	// AutoRate learns the rate the server allows from its answers (--rps
	// auto): it starts at DefaultInitialRate (or InitialRate), rises while
	// answers come back clean, cuts on 429 rate_limit_exceeded and holds just
	// below the rate at which throttling began (see rate.go). Client.Rate
	// says where it is, Client.LearnedRate what to start the next run at.
	AutoRate bool
	// InitialRate starts AutoRate at a rate learned earlier (an earlier
	// run's Client.LearnedRate), held from the start and probed upwards from
	// there; 0 starts cold at DefaultInitialRate and doubles from it.
	InitialRate float64
	// Timeout bounds one data attempt, headers and body; 0 = DefaultTimeout.
	Timeout time.Duration
	// IdleTimeout ends a data attempt whose body sends no byte for this long;
	// 0 = DefaultIdleTimeout.
	IdleTimeout time.Duration
	// TokenTimeout bounds one token request; 0 = DefaultTokenTimeout.
	TokenTimeout time.Duration
	// MaxBodyBytes bounds one response body, on the wire and inflated;
	// 0 = DefaultMaxBodyBytes.
	MaxBodyBytes int64
	Retry        RetryPolicy
	// OnSend runs exactly once for every data request the client sends,
	// retries included (the API counts failed calls against the quota too),
	// after the rate limiter's wait and immediately before the round trip. An
	// error aborts the call without sending it (a spent budget) and is
	// returned as is. Token requests spend no quota and do not pass through
	// OnSend; Sent counts them.
	OnSend func(endpoint string) error
	// OnThrottle runs for every answer that throttled a request (429
	// rate_limit_exceeded, not the daily quota), token endpoint included.
	OnThrottle func(endpoint string)
	// OnRequest is the former name of OnSend; it is used when OnSend is nil.
	//
	// Deprecated: it used to run before the rate limiter's wait, so that a
	// call cancelled during the wait was counted without being sent. Use
	// OnSend.
	OnRequest func(endpoint string) error
	// Logf receives retry notices. Messages are scrubbed of secrets.
	Logf func(format string, args ...any)
	// HTTP overrides the transport, for tests. The client works on a copy and
	// adds its redirect policy in front of the copy's own CheckRedirect.
	HTTP *http.Client
	// Now is the clock for calendar decisions (quota reset), for tests.
	// Durations are measured on the real clock.
	Now func() time.Time
}

// Client calls the Commercial Content API. It is safe for concurrent use: all
// workers share one token, one request rate, one retry policy and one slot
// for large bodies.
type Client struct {
	cfg     Config
	base    *url.URL
	http    *http.Client
	limiter *rate.Limiter // a fixed rate
	auto    *autoRate     // the learned rate, with Config.AutoRate
	tokens  *tokenSource
	scrub   scrubber
	large   chan struct{}
	logMu   sync.RWMutex
	logf    func(format string, args ...any)

	countMu   sync.Mutex
	sent      map[string]int64
	throttled map[string]int64
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
	cfg.Timeout = orDefault(cfg.Timeout, DefaultTimeout)
	cfg.IdleTimeout = orDefault(cfg.IdleTimeout, DefaultIdleTimeout)
	cfg.TokenTimeout = orDefault(cfg.TokenTimeout, DefaultTokenTimeout)
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.OnSend == nil {
		cfg.OnSend = cfg.OnRequest
	}
	hc := &http.Client{}
	if cfg.HTTP != nil {
		cp := *cfg.HTTP
		hc = &cp
	}
	hc.CheckRedirect = redirectPolicy(hc.CheckRedirect)
	if cfg.RPS < 0 || math.IsNaN(cfg.RPS) || cfg.InitialRate < 0 || math.IsNaN(cfg.InitialRate) || math.IsInf(cfg.InitialRate, 0) {
		return nil, fmt.Errorf("request rate %g (initial %g): want a number of requests a second, 0 for unlimited", cfg.RPS, cfg.InitialRate)
	}
	c := &Client{cfg: cfg, base: base, http: hc, large: make(chan struct{}, 1),
		sent: map[string]int64{}, throttled: map[string]int64{}}
	c.limiter = rate.NewLimiter(rate.Inf, 1)
	switch {
	case cfg.AutoRate:
		c.auto = newAutoRate(cfg.InitialRate, cfg.RPS, time.Now)
	case cfg.RPS > 0:
		c.limiter = rate.NewLimiter(rate.Limit(cfg.RPS), 1)
	}
	c.scrub.add(cfg.ClientSecret)
	c.tokens = &tokenSource{c: c}
	c.SetLogf(cfg.Logf)
	return c, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// SetLogf replaces the retry logger; nil keeps the current one. Every line is
// scrubbed before it reaches logf.
func (c *Client) SetLogf(logf func(format string, args ...any)) {
	if logf == nil {
		if c.logf != nil {
			return
		}
		logf = func(string, ...any) {}
	}
	c.logMu.Lock()
	c.logf = logf
	c.logMu.Unlock()
}

func (c *Client) log(format string, args ...any) {
	c.logMu.RLock()
	logf := c.logf
	c.logMu.RUnlock()
	logf("%s", c.Scrub(fmt.Sprintf(format, args...)))
}

// Sent returns how many requests the client has sent, by endpoint, retries
// included; token requests count under EndpointToken. A request counts when it
// goes to the wire, whatever its answer.
func (c *Client) Sent() map[string]int64 {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	return maps.Clone(c.sent)
}

// Throttled returns how many answers throttled a request (429
// rate_limit_exceeded), by endpoint.
func (c *Client) Throttled() map[string]int64 {
	c.countMu.Lock()
	defer c.countMu.Unlock()
	return maps.Clone(c.throttled)
}

// send runs OnSend and counts the request; it is the last step before a data
// request's round trip.
func (c *Client) send(endpoint string) error {
	if c.cfg.OnSend != nil {
		if err := c.cfg.OnSend(endpoint); err != nil {
			return err
		}
	}
	c.countMu.Lock()
	c.sent[endpoint]++
	c.countMu.Unlock()
	return nil
}

func (c *Client) countSent(endpoint string) {
	c.countMu.Lock()
	c.sent[endpoint]++
	c.countMu.Unlock()
}

func (c *Client) countThrottled(endpoint string) {
	c.countMu.Lock()
	c.throttled[endpoint]++
	c.countMu.Unlock()
	if c.cfg.OnThrottle != nil {
		c.cfg.OnThrottle(endpoint)
	}
}

// CheckAuth fetches a token, so that refused credentials fail before anything
// else happens. It spends no data-request quota. It makes at most five
// attempts, within the policy's MaxElapsed.
func (c *Client) CheckAuth(ctx context.Context) error {
	p := c.cfg.Retry
	p.MaxAttempts = 5
	_, err := p.do(ctx, EndpointToken, func(err error, wait time.Duration, n int) {
		c.log("%v; retrying the token request in %s (attempt %d of %d)", err, wait.Round(time.Millisecond), n+1, p.MaxAttempts)
	}, func(ctx context.Context) error {
		_, err := c.tokens.get(ctx)
		return err
	})
	return c.guard(err)
}

// Response is one successful data response.
type Response struct {
	// Body is the exact response body (inflated), kept raw on disk so that a
	// schema change can be re-parsed without spending quota again.
	Body []byte
	// Data is the envelope's data object.
	Data  json.RawMessage
	LogID string
	// Attempts counts the requests this response cost, retries included.
	Attempts int
}

// Call POSTs body to endpoint with the given fields and returns the data of the
// first successful response. It retries what is transient (5xx, 429 rate limit,
// network errors, stalls, unreadable bodies) with jittered exponential backoff
// honouring Retry-After, renews the token once on 401, and returns at once on
// invalid_params, a spent quota, refused credentials, a refused redirect, a
// body over the limit, a Retry-After it will not wait out, or a cancelled
// context. It returns within the retry policy's MaxElapsed.
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
	p := c.cfg.Retry
	notify := func(err error, wait time.Duration, n int) {
		of := ""
		if p.MaxAttempts > 0 {
			of = fmt.Sprintf(" of %d", p.MaxAttempts)
		}
		if tokenRefused(err) {
			c.log("%v; renewing the access token and retrying %s now (attempt %d%s)", err, endpoint, n+1, of)
			return
		}
		c.log("%v; retrying %s in %s (attempt %d%s)", err, endpoint, wait.Round(time.Millisecond), n+1, of)
	}
	attempts, err := p.do(ctx, endpoint, notify, func(ctx context.Context) error {
		r, err := c.attempt(ctx, endpoint, u.String(), payload)
		if err == nil {
			resp = r
			return nil
		}
		if tokenRefused(err) {
			var ae *APIError
			if !renewed || (errors.As(err, &ae) && ae.staleToken) {
				// A token can die early (revoked, clock skew, a lifetime
				// shorter than its expires_in): renew and retry now. Only
				// a fresh token refused right after a renewal means the
				// credentials are refused.
				renewed = true
				return retryNow{err}
			}
			// The token fetched for this very attempt was refused too.
			return &TokenRefusedError{Endpoint: endpoint, Err: err}
		}
		renewed = false // only consecutive refusals mean the credentials are bad
		return err
	})
	if err != nil {
		return nil, c.guard(err)
	}
	resp.Attempts = attempts
	return resp, nil
}

// Rate returns the request rate in force, in requests a second: the one
// learned so far with Config.AutoRate, Config.RPS otherwise; 0 means
// unlimited.
func (c *Client) Rate() float64 {
	if c.auto != nil {
		return c.auto.Rate()
	}
	return c.cfg.RPS
}

// LearnedRate returns, with Config.AutoRate, the rate held just below where
// the server began to throttle (or Config.InitialRate, or where probing up
// from it led), to keep and pass as Config.InitialRate to a later run. It is
// 0 while no limit is known (the server has throttled nothing, or the rate is
// fixed): a later run then starts cold, which against a server without a
// limit is at full speed within about two seconds.
func (c *Client) LearnedRate() float64 {
	if c.auto != nil {
		return c.auto.Learned()
	}
	return 0
}

// ParseRate reads --rps: "auto" learns the rate the server allows
// (Config.AutoRate); a number of requests a second fixes it (Config.RPS); 0
// is unlimited.
func ParseRate(s string) (rps float64, auto bool, err error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "auto") {
		return 0, true, nil
	}
	rps, err = strconv.ParseFloat(s, 64)
	if err != nil || rps < 0 || math.IsNaN(rps) || math.IsInf(rps, 0) {
		return 0, false, fmt.Errorf("--rps %q: want auto, a number of requests a second, or 0 for unlimited", s)
	}
	return rps, false, nil
}

// attempt sends one request.
func (c *Client) attempt(ctx context.Context, endpoint, u string, payload []byte) (resp *Response, err error) {
	var tk ticket
	if c.auto != nil {
		tk, err = c.auto.wait(ctx)
	} else {
		err = c.limiter.Wait(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%s: the request rate (--rps) allows no request before the deadline: %w", endpoint, err)
	}
	token, err := c.tokens.get(ctx)
	if err != nil {
		return nil, err
	}
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	total := time.AfterFunc(c.cfg.Timeout, func() { cancel(&stallError{what: "no answer within", d: c.cfg.Timeout}) })
	defer total.Stop()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u, bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "adharvest")
	// Asking for gzip ourselves stops the transport from inflating bodies
	// behind our back, so that both sizes can be bounded.
	req.Header.Set("Accept-Encoding", "gzip")
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := c.send(endpoint); err != nil {
		return nil, err
	}
	stale := c.tokens.stale(token) // as it goes out
	if c.auto != nil {
		c.auto.sent(tk)
		defer func() { c.auto.done(tk, rateOutcome(err)) }()
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportErr(endpoint, actx, err)
	}
	defer res.Body.Close()
	idle := startIdle(c.cfg.IdleTimeout, func() {
		cancel(&stallError{what: "no data for", d: c.cfg.IdleTimeout, how: fmt.Sprintf("after the response headers (HTTP %d)", res.StatusCode)})
	})
	defer idle.stop()
	br := &bodyReader{c: c, endpoint: endpoint, limit: c.cfg.MaxBodyBytes, idle: idle}
	body, err := br.read(actx, res)
	if err != nil {
		if actx.Err() != nil {
			return nil, c.transportErr(endpoint, actx, err)
		}
		if res.StatusCode == http.StatusTooManyRequests {
			c.countThrottled(endpoint)
		}
		return nil, err
	}
	return c.decode(endpoint, token, stale, res, body)
}

// rateOutcome is what the result of a sent data attempt says about the
// request rate: a throttle, a request the server took (an answer, even a
// refusal of its parameters), or nothing (no answer, a 5xx, a refused token,
// which the server turns away before its rate limit, a spent daily quota).
func rateOutcome(err error) outcome {
	if err == nil {
		return clean
	}
	var ae *APIError
	if errors.As(err, &ae) {
		switch {
		case ae.throttled():
			return throttled
		case ae.HTTPStatus == http.StatusUnauthorized || ae.Code == "access_token_invalid" || errors.Is(ae, ErrQuota) ||
			ae.HTTPStatus == http.StatusRequestTimeout || ae.HTTPStatus >= 500:
			return neutral
		}
		return clean
	}
	var be *BodyError
	if errors.As(err, &be) && be.HTTPStatus == http.StatusTooManyRequests {
		return throttled
	}
	return neutral
}

// decode turns a complete answer into a Response or a typed error.
func (c *Client) decode(endpoint, token string, stale bool, res *http.Response, body []byte) (*Response, error) {
	env, err := api.DecodeEnvelope(body)
	if err != nil {
		if res.StatusCode == http.StatusTooManyRequests {
			c.countThrottled(endpoint)
		}
		if res.StatusCode == http.StatusUnauthorized {
			c.tokens.invalidate(token)
			return nil, &APIError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Message: c.excerpt(body), staleToken: stale}
		}
		return nil, &BodyError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Excerpt: c.excerpt(body), Err: err}
	}
	code := c.text(env.Error.Code, fieldLen)
	logID := c.text(env.Error.LogID, fieldLen)
	if res.StatusCode == http.StatusOK && (code == "ok" || code == "") {
		if len(env.Data) == 0 || string(env.Data) == "null" {
			return nil, &BodyError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Excerpt: c.excerpt(body), Err: errors.New("envelope has no data")}
		}
		return &Response{Body: body, Data: env.Data, LogID: logID}, nil
	}
	ae := &APIError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Code: code, Message: c.text(api.Clean(env.Error.Message), messageLen), LogID: logID}
	if ae.HTTPStatus == http.StatusOK {
		ae.HTTPStatus = env.Error.HTTPStatusCode
	}
	ae.RetryAfter = parseRetryAfter(res.Header.Get("Retry-After"), c.cfg.Now())
	if ae.throttled() {
		c.countThrottled(endpoint)
	}
	if ae.Code == "access_token_invalid" || res.StatusCode == http.StatusUnauthorized {
		ae.staleToken = stale
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

// transportErr words a failed round trip or body read: a refused redirect, a
// stall the client cut (the cause of actx), or a transport error without its
// URL and scrubbed.
func (c *Client) transportErr(endpoint string, actx context.Context, err error) error {
	if re, ok := c.redirectRefused(endpoint, err); ok {
		return re
	}
	if cause := context.Cause(actx); cause != nil {
		var se *stallError
		if errors.As(cause, &se) {
			return &NetError{Endpoint: endpoint, Err: se, text: se.Error()}
		}
		return &NetError{Endpoint: endpoint, Err: cause}
	}
	err = unwrapURLError(err)
	return &NetError{Endpoint: endpoint, Err: err, text: c.text(err.Error(), messageLen)}
}

// tokenRefused reports whether a data endpoint refused a request for its
// token: access_token_invalid, or any 401 (scope_not_authorized and HTML
// pages included), since renewing the token is the one thing that may help.
func tokenRefused(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Endpoint != EndpointToken && (ae.Code == "access_token_invalid" || ae.HTTPStatus == http.StatusUnauthorized)
}

// scrubbedError is an error whose text held a secret after all: the text is
// replaced, the chain kept for errors.Is and errors.As.
type scrubbedError struct {
	err  error
	text string
}

func (e *scrubbedError) Error() string { return e.text }
func (e *scrubbedError) Unwrap() error { return e.err }

// guard is the last line of defence: every field of server text is already
// scrubbed where it is read, but an error's text is checked again on its way
// out.
func (c *Client) guard(err error) error {
	if err == nil {
		return nil
	}
	s := err.Error()
	if t := c.Scrub(s); t != s {
		return &scrubbedError{err: err, text: t}
	}
	return err
}
