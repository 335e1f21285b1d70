package tiktok

import (
	"adharvest/tiktok/api"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
)

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
