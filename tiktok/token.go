package tiktok

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"adharvest/tiktok/api"
)

// tokenSource holds the one client-credentials token all workers share. When
// it is stale, one fetch runs and every worker that needs a token waits for
// that fetch, each only as long as its own context allows; its result, token
// or error, goes to all of them. So a stalled token endpoint costs every
// worker one TokenTimeout at a time, not one each in turn, and a refusal is
// one request, not one per worker.
type tokenSource struct {
	c      *Client
	mu     sync.Mutex
	token  string
	expiry time.Time
	got    time.Time // when the token came
	ttl    time.Duration
	fetch  *tokenFetch // the fetch in flight, if any
}

type tokenFetch struct {
	done  chan struct{}
	token string
	err   error
}

func (t *tokenSource) get(ctx context.Context) (string, error) {
	t.mu.Lock()
	if t.token != "" && t.c.cfg.Now().Add(renewMargin(t.ttl)).Before(t.expiry) {
		tok := t.token
		t.mu.Unlock()
		return tok, nil
	}
	f := t.fetch
	if f == nil {
		f = &tokenFetch{done: make(chan struct{})}
		t.fetch = f
		// The fetch serves every waiter, so no single waiter's cancellation
		// may cut it; TokenTimeout bounds it.
		go t.run(context.WithoutCancel(ctx), f)
	}
	t.mu.Unlock()
	select {
	case <-f.done:
		return f.token, f.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func (t *tokenSource) run(ctx context.Context, f *tokenFetch) {
	started := t.c.cfg.Now()
	tok, ttl, err := t.c.fetchToken(ctx)
	t.mu.Lock()
	if err == nil {
		t.token, t.ttl, t.expiry, t.got = tok, ttl, started.Add(ttl), t.c.cfg.Now()
	}
	t.fetch = nil
	f.token, f.err = tok, err
	t.mu.Unlock()
	close(f.done)
}

// renewMargin renews five minutes early, or a fifth of a short lifetime early.
func renewMargin(ttl time.Duration) time.Duration {
	return min(5*time.Minute, ttl/5)
}

// freshToken is how old a token may be when sent for its refusal to count
// against the credentials: a token refused that young was not let expire.
const freshToken = 250 * time.Millisecond

// stale reports whether tok, sent now, is older than freshToken (or is no
// longer the token held, so its age is unknown).
func (t *tokenSource) stale(tok string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.token != tok || t.c.cfg.Now().Sub(t.got) > freshToken
}

func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	if t.token == tok {
		t.token = ""
	}
	t.mu.Unlock()
}

// fetchToken runs the client-credentials grant, within TokenTimeout. Its
// errors never include the form body (which holds the secret) or the URL, and
// the server's own text in them is scrubbed: a token endpoint or a proxy may
// echo the form. Every token received is added to the scrubber at once.
func (c *Client) fetchToken(ctx context.Context) (string, time.Duration, error) {
	const endpoint = EndpointToken
	form := url.Values{"client_key": {c.cfg.ClientKey}, "client_secret": {c.cfg.ClientSecret}, "grant_type": {"client_credentials"}}
	u := *c.base
	u.Path += "/v2/oauth/token/"
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	timer := time.AfterFunc(c.cfg.TokenTimeout, func() { cancel(&stallError{what: "no answer within", d: c.cfg.TokenTimeout}) })
	defer timer.Stop()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
	if err != nil {
		return "", 0, fmt.Errorf("token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "adharvest")
	req.Header.Set("Accept-Encoding", "gzip")
	c.countSent(endpoint)
	res, err := c.http.Do(req)
	if err != nil {
		return "", 0, c.transportErr(endpoint, actx, err)
	}
	defer res.Body.Close()
	br := &bodyReader{c: c, endpoint: endpoint, limit: maxTokenBody}
	body, err := br.read(actx, res)
	if err != nil {
		if actx.Err() != nil {
			return "", 0, c.transportErr(endpoint, actx, err)
		}
		return "", 0, err
	}
	var tr api.TokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		if res.StatusCode == http.StatusTooManyRequests {
			c.countThrottled(endpoint)
		}
		return "", 0, &BodyError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Excerpt: c.excerpt(body), Err: err}
	}
	if tr.AccessToken != "" {
		// Even on a failure status: the server has shown us a token, which is
		// then a secret to keep out of every text.
		c.scrub.add(tr.AccessToken)
	}
	if res.StatusCode != http.StatusOK || tr.AccessToken == "" {
		ae := &APIError{Endpoint: endpoint, HTTPStatus: res.StatusCode, Code: c.text(tr.Error, fieldLen), Message: c.text(tr.ErrorDescription, messageLen), LogID: c.text(tr.LogID, fieldLen)}
		ae.RetryAfter = parseRetryAfter(res.Header.Get("Retry-After"), c.cfg.Now())
		if ae.throttled() {
			c.countThrottled(endpoint)
		}
		if res.StatusCode == http.StatusUnauthorized || res.StatusCode == http.StatusForbidden || tr.Error == "invalid_client" {
			return "", 0, fmt.Errorf("%w: the token endpoint refused the client key and secret; check TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET: %w", ErrAuth, ae)
		}
		// 5xx and 429 match errRetryable through the *APIError; anything
		// else (a 400, a 200 without a token) is final.
		return "", 0, ae
	}
	ttl := time.Duration(tr.ExpiresIn) * time.Second
	if ttl <= 0 {
		ttl = 2 * time.Hour
	}
	return tr.AccessToken, ttl, nil
}
