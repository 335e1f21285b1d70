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
	Initial       time.Duration // first backoff
	Max           time.Duration // cap on one wait
	MaxElapsed    time.Duration // give up after this long
	MaxAttempts   int           // and after this many attempts
	MaxRetryAfter time.Duration // cap on an honoured Retry-After
}

// DefaultRetry is the production policy: a transient outage of a few minutes is
// ridden out; anything longer fails the shard, which the next run retries.
var DefaultRetry = RetryPolicy{Initial: time.Second, Max: time.Minute, MaxElapsed: 10 * time.Minute, MaxAttempts: 12, MaxRetryAfter: 5 * time.Minute}

// retryNow marks a failure that is worth one more attempt at once, without a
// backoff wait: a token that was refused and has just been renewed.
type retryNow struct{ error }

func (e retryNow) Unwrap() error { return e.error }

// do runs attempt until it succeeds or the policy gives up, in the manner of
// restic's backend/retry: the attempt only says what happened, and do alone
// decides whether to wait and try again. Errors matching errRetryable are
// retried with jittered exponential backoff, or after the server's Retry-After
// when an *APIError carries one (capped at MaxRetryAfter); a retryNow error is
// retried at once; any other error, and a cancelled ctx, end it. notify hears
// every retry before its wait. It returns how many attempts were made.
func (p RetryPolicy) do(ctx context.Context, notify func(err error, wait time.Duration), attempt func() error) (int, error) {
	bo := backoff.NewExponentialBackOff()
	bo.InitialInterval, bo.MaxInterval, bo.MaxElapsedTime = p.Initial, p.Max, p.MaxElapsed
	bo.RandomizationFactor = 0.5
	ra := &retryAfter{BackOff: bo, max: p.MaxRetryAfter}
	var policy backoff.BackOff = ra
	if p.MaxAttempts > 0 {
		policy = backoff.WithMaxRetries(ra, uint64(p.MaxAttempts-1))
	}
	attempts := 0
	op := func() error {
		attempts++
		err := attempt()
		if err == nil {
			return nil
		}
		ra.wait, ra.now = 0, false
		var now retryNow
		if errors.As(err, &now) {
			ra.now = true
			return now.error
		}
		if ctx.Err() != nil {
			return backoff.Permanent(ctx.Err())
		}
		var ae *APIError
		if errors.As(err, &ae) {
			ra.wait = ae.RetryAfter
		}
		var pe *backoff.PermanentError
		if errors.As(err, &pe) || !errors.Is(err, errRetryable) {
			return backoff.Permanent(err)
		}
		return err
	}
	err := backoff.RetryNotify(op, backoff.WithContext(policy, ctx), notify)
	var pe *backoff.PermanentError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			return attempts, ctx.Err()
		}
		if errors.Is(err, errRetryable) {
			err = fmt.Errorf("gave up after %d attempts: %w", attempts, err)
		}
	}
	return attempts, err
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
