package tiktok

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// RetryPolicy bounds how long one request may be retried. Tests shrink it.
type RetryPolicy struct {
	Initial time.Duration // first backoff
	Max     time.Duration // cap on one backoff wait
	// MaxElapsed is the per-request bound: a request (every attempt, wait and
	// token renewal of one Call or CheckAuth) ends this long after it started
	// at the latest. An attempt in flight is cut at the bound, and no retry
	// starts that could not begin before it. 0 means no bound.
	MaxElapsed  time.Duration
	MaxAttempts int // and after this many attempts; 0 means no cap
	// MaxRetryAfter is the longest Retry-After a request sits through. A
	// longer one, or one that would end past MaxElapsed, is not cut short
	// (a retry before the server's time is only refused again) but returned
	// at once as a *RetryLaterError. 0 means any wait that fits MaxElapsed.
	MaxRetryAfter time.Duration
}

// DefaultRetry is the production policy: a transient outage of a few minutes is
// ridden out; anything longer fails the request, which the next run retries.
//
// The bounds, with the Config defaults: one data attempt ends 90 s after it is
// sent (Config.Timeout) or after 30 s without a byte of its body
// (Config.IdleTimeout); one token request ends after 30 s
// (Config.TokenTimeout). A request makes at most 12 attempts with jittered
// backoff from 1 s up to 1 min between them, and ends within 10 min of its
// start (MaxElapsed) whatever the server does. A server that sends headers and
// then nothing costs 12 attempts of 30 s plus the backoff between them, about
// 9 min, with a log line after every cut; a stalled token endpoint costs
// CheckAuth 5 attempts of 30 s, about 2 min 40 s.
// A Retry-After up to 5 min is honoured; a longer one ends the request at once
// with a *RetryLaterError (ErrRetryLater) that says when to come back.
var DefaultRetry = RetryPolicy{Initial: time.Second, Max: time.Minute, MaxElapsed: 10 * time.Minute, MaxAttempts: 12, MaxRetryAfter: 5 * time.Minute}

// retryNow marks a failure that is worth one more attempt at once, without a
// backoff wait: a token that was refused and has just been renewed.
type retryNow struct{ error }

func (e retryNow) Unwrap() error { return e.error }

// do runs attempt until it succeeds or the policy gives up, in the manner of
// restic's backend/retry: the attempt only says what happened, and do alone
// decides whether to wait and try again. Errors matching errRetryable are
// retried with jittered exponential backoff, or after the server's Retry-After
// when an *APIError carries one; a retryNow error is retried at once; any
// other error, and a cancelled ctx, end it. A Retry-After the policy does not
// wait out ends it with a *RetryLaterError. attempt gets a context that ends
// at the per-request bound; notify hears every retry before its wait. It
// returns how many attempts were made.
func (p RetryPolicy) do(ctx context.Context, endpoint string, notify func(err error, wait time.Duration, attempt int), attempt func(ctx context.Context) error) (int, error) {
	start := time.Now()
	rctx := ctx
	var deadline time.Time
	if p.MaxElapsed > 0 {
		deadline = start.Add(p.MaxElapsed)
		var cancel context.CancelFunc
		rctx, cancel = context.WithDeadlineCause(ctx, deadline, &boundError{d: p.MaxElapsed})
		defer cancel()
	}
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval, bo.MaxElapsedTime = p.Initial, p.Max, 0
	bo.RandomizationFactor = 0.5
	bo.Reset()
	var last error // the last failure not caused by the bound
	for n := 1; ; n++ {
		err := attempt(rctx)
		if err == nil {
			return n, nil
		}
		if ctx.Err() != nil {
			return n, ctx.Err()
		}
		if rctx.Err() != nil {
			return n, p.cut(endpoint, n, start, last)
		}
		var now retryNow
		immediate := errors.As(err, &now)
		if immediate {
			err = now.error
		}
		last = err
		if !immediate && !errors.Is(err, errRetryable) {
			return n, err
		}
		if p.MaxAttempts > 0 && n >= p.MaxAttempts {
			return n, fmt.Errorf("gave up after %d attempts: %w", n, err)
		}
		var wait time.Duration
		if !immediate {
			wait = bo.NextBackOff()
			var ae *APIError
			if errors.As(err, &ae) && ae.RetryAfter > 0 {
				limit := p.MaxRetryAfter
				if !deadline.IsZero() {
					if left := time.Until(deadline); limit <= 0 || left < limit {
						limit = left
					}
				}
				if limit > 0 && ae.RetryAfter > limit {
					return n, &RetryLaterError{Endpoint: endpoint, Wait: ae.RetryAfter, Until: time.Now().Add(ae.RetryAfter).UTC(), Limit: limit, Err: err}
				}
				wait = max(wait, ae.RetryAfter)
			}
			if !deadline.IsZero() && time.Now().Add(wait).After(deadline) {
				return n, fmt.Errorf("gave up after %d attempts in %s: the next retry would start past the per-request bound of %s: %w",
					n, time.Since(start).Round(time.Millisecond), p.MaxElapsed, err)
			}
		}
		notify(err, wait, n)
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return n, ctx.Err()
			}
		}
	}
}

// cut is the error of a request whose attempt n the per-request bound cut.
func (p RetryPolicy) cut(endpoint string, n int, start time.Time, last error) error {
	bound := &boundError{d: p.MaxElapsed}
	if last == nil {
		return &NetError{Endpoint: endpoint, Err: bound, text: fmt.Sprintf("gave up during the first attempt: %v", bound)}
	}
	return fmt.Errorf("%s: gave up after %d attempts in %s: %v during attempt %d; the one before: %w",
		endpoint, n, time.Since(start).Round(time.Millisecond), bound, n, last)
}

// maxRetryAfterSeconds caps a parsed Retry-After (a year) so that a hostile
// value cannot overflow a time.Duration.
const maxRetryAfterSeconds = 365 * 24 * 3600

// parseRetryAfter reads delta-seconds or an HTTP date.
func parseRetryAfter(h string, now time.Time) time.Duration {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0
	}
	if s, err := strconv.ParseInt(h, 10, 64); err == nil && s >= 0 {
		return time.Duration(min(s, maxRetryAfterSeconds)) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
