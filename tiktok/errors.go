package tiktok

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Sentinels that callers branch on with errors.Is. An *APIError matches the one
// its code maps to.
var (
	// ErrQuota means the API's daily quota is spent: stop cleanly, resume later.
	ErrQuota = errors.New("daily quota exhausted")
	// ErrBudget means the user's own --daily-quota budget is spent.
	ErrBudget = errors.New("daily request budget reached")
	// ErrDetailBudget means this run's --detail-budget of ad/detail calls is spent.
	ErrDetailBudget = errors.New("ad/detail budget for this run reached")
	// ErrInvalidParams means the API rejected the request itself; retrying the
	// same request cannot help.
	ErrInvalidParams = errors.New("invalid request parameters")
	// ErrAuth means the credentials were refused: by the token endpoint, or by
	// a data endpoint that refused a freshly renewed token too
	// (*TokenRefusedError). No later request can succeed, so a crawl should
	// stop at once.
	ErrAuth = errors.New("credentials refused")
	// ErrSearchIDExpired is an invalid_params rejection of a search_id that the
	// API itself handed out: the shard must restart from its first page.
	ErrSearchIDExpired = errors.New("search_id invalid or expired")
	// ErrRetryLater means the server asked for a wait longer than one request
	// may take (*RetryLaterError says until when): stop resumably and run
	// again after it.
	ErrRetryLater = errors.New("the server asks to retry later")
	// ErrBodyTooLarge means a response body exceeded Config.MaxBodyBytes,
	// compressed or inflated; the client stopped reading it. It is not retried:
	// a real page is far below the limit.
	ErrBodyTooLarge = errors.New("response body too large")
	// errRetryable marks failures worth another attempt (5xx, 429 rate limit,
	// network errors and stalls, truncated or non-JSON bodies).
	errRetryable = errors.New("retryable")
)

// APIError is an error the API reported, with its log_id so that TikTok support
// can trace it. Code, Message and LogID are server text: the client scrubs
// them of its secret and tokens and keeps them to one bounded line.
type APIError struct {
	Endpoint   string
	HTTPStatus int
	Code       string
	Message    string
	LogID      string
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
	// ResetAt is when the daily quota is expected back (quota errors only).
	ResetAt time.Time
	// staleToken marks a refusal of a token that was not fresh when the
	// request went out (see freshToken): a token the service let die early
	// (its expires_in said hours, it lived a second) is refused too, and
	// that says nothing about the credentials.
	staleToken bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Endpoint, e.HTTPStatus)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.LogID != "" {
		fmt.Fprintf(&b, " (log_id %s)", e.LogID)
	}
	return b.String()
}

// Is maps API codes onto the package sentinels.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrQuota:
		return e.Code == "daily_quota_limit_exceeded"
	case ErrInvalidParams:
		return e.Code == "invalid_params" || e.HTTPStatus == 400
	case ErrSearchIDExpired:
		return (e.Code == "invalid_params" || e.HTTPStatus == 400) && mentionsSearchID(e.Message)
	case ErrAuth:
		return e.Code == "access_token_invalid" || e.Code == "invalid_client"
	case errRetryable:
		return e.throttled() || e.HTTPStatus == 408 || e.HTTPStatus >= 500
	}
	return false
}

// throttled reports a rate limit (not the daily quota): 429 rate_limit_exceeded,
// or a 429 without a code.
func (e *APIError) throttled() bool {
	return e.Code == "rate_limit_exceeded" || (e.HTTPStatus == 429 && e.Code != "daily_quota_limit_exceeded")
}

func mentionsSearchID(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "search id") || strings.Contains(m, "search_id") || strings.Contains(m, "searchid")
}

// LogIDOf returns the log_id of the API error inside err, if any.
func LogIDOf(err error) string {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.LogID
	}
	return ""
}

// TokenRefusedError is a data endpoint refusing (HTTP 401) the token the
// client had just renewed because the endpoint refused the previous one: the
// token endpoint accepts the credentials but the data endpoints do not (an app
// without access to this API, a revoked scope). It matches ErrAuth and is
// never retried; every further request would be refused the same way.
type TokenRefusedError struct {
	Endpoint string
	// Err is the second refusal, an *APIError.
	Err error
}

func (e *TokenRefusedError) Error() string {
	detail := ""
	var ae *APIError
	if errors.As(e.Err, &ae) {
		detail = fmt.Sprintf(" (HTTP %d", ae.HTTPStatus)
		if ae.Code != "" {
			detail += " " + ae.Code
		}
		if ae.Message != "" {
			detail += ": " + ae.Message
		}
		if ae.LogID != "" {
			detail += ", log_id " + ae.LogID
		}
		detail += ")"
	}
	return fmt.Sprintf("%s: %v: the access token was renewed and still refused%s; the token endpoint accepts TIKTOK_CLIENT_KEY and TIKTOK_CLIENT_SECRET but %s does not: check that the app has access to the Commercial Content API",
		e.Endpoint, ErrAuth, detail, e.Endpoint)
}

func (e *TokenRefusedError) Unwrap() error        { return e.Err }
func (e *TokenRefusedError) Is(target error) bool { return target == ErrAuth }

// RetryLaterError is a server asking (with Retry-After) for a wait that one
// request does not sit through: longer than RetryPolicy.MaxRetryAfter, or past
// the request's MaxElapsed bound. Nothing is retried; the caller should stop
// resumably and run again at Until. It matches ErrRetryLater, and LogIDOf
// finds the log_id of the answer that asked.
type RetryLaterError struct {
	Endpoint string
	// Wait is the server's Retry-After.
	Wait time.Duration
	// Until is when the server said to come back (UTC).
	Until time.Time
	// Limit is the longest wait the client would have honoured at that point.
	Limit time.Duration
	// Err is the answer that asked, usually an *APIError.
	Err error
}

func (e *RetryLaterError) Error() string {
	return fmt.Sprintf("%s: the server asks to retry in %s (at %s), longer than the %s one request may wait: %v",
		e.Endpoint, e.Wait.Round(time.Second), e.Until.UTC().Format(time.RFC3339), e.Limit.Round(time.Millisecond), e.Err)
}

func (e *RetryLaterError) Unwrap() error { return e.Err }
func (e *RetryLaterError) Is(target error) bool {
	return target == ErrRetryLater
}

// RedirectError is a redirect the client refused to follow because its target
// has another scheme, host or port than the API URL: following it would send
// the client secret (token endpoint) or the bearer token (data endpoints) to a
// third party, or downgrade https to http. Target is the refused origin
// (scheme://host:port), without path or query. It is never retried.
type RedirectError struct {
	Endpoint   string
	StatusCode int
	Target     string
	// Origin is the API's own origin, the only one the client talks to.
	Origin string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s: refused to follow an HTTP %d redirect to %s: the client sends its secret and tokens only to %s (check --api-url)",
		e.Endpoint, e.StatusCode, e.Target, e.Origin)
}

// BodyError is a response that could not be read as a JSON envelope: a truncated
// body, an HTML error page, or a body over the size limit. It keeps a short,
// scrubbed excerpt, never the whole page. It is retried, except for a body
// over the limit (ErrBodyTooLarge).
type BodyError struct {
	Endpoint   string
	HTTPStatus int
	Excerpt    string
	Err        error
}

func (e *BodyError) Error() string {
	if errors.Is(e.Err, ErrBodyTooLarge) {
		return fmt.Sprintf("%s: HTTP %d: %v; it starts %q", e.Endpoint, e.HTTPStatus, e.Err, e.Excerpt)
	}
	return fmt.Sprintf("%s: HTTP %d with unreadable body %q: %v", e.Endpoint, e.HTTPStatus, e.Excerpt, e.Err)
}

func (e *BodyError) Unwrap() error { return e.Err }
func (e *BodyError) Is(target error) bool {
	return target == errRetryable && !errors.Is(e.Err, ErrBodyTooLarge)
}

// tooLargeError is a body cut at limit bytes.
type tooLargeError struct {
	limit      int64
	compressed bool
}

func (e *tooLargeError) Error() string {
	what := "response body"
	if e.compressed {
		what = "compressed response body"
	}
	return fmt.Sprintf("%s larger than %d bytes (%s), the client's limit; not read further", what, e.limit, mib(e.limit))
}

func (e *tooLargeError) Is(target error) bool { return target == ErrBodyTooLarge }

func mib(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// NetError is a transport failure or a stall. It replaces *url.Error, whose
// message repeats the full request URL, so that no query string or credential
// can reach a log; its text is scrubbed, since a transport error can quote
// bytes the server sent (a malformed status line or header).
type NetError struct {
	Endpoint string
	Err      error
	text     string
}

func (e *NetError) Error() string {
	if e.text != "" {
		return e.Endpoint + ": " + e.text
	}
	return fmt.Sprintf("%s: %v", e.Endpoint, e.Err)
}
func (e *NetError) Unwrap() error { return e.Err }
func (e *NetError) Is(target error) bool {
	return target == errRetryable
}

// stallError is an attempt the client cut short because the server went
// silent: no answer within the attempt's timeout, or no byte of the body for
// the idle timeout.
type stallError struct {
	what string // "no answer within", "no data for"
	d    time.Duration
	how  string // optional detail
}

func (e *stallError) Error() string {
	s := e.what + " " + e.d.String()
	if e.how != "" {
		s += " " + e.how
	}
	return s
}

// boundError is a request cut by its own per-request bound (MaxElapsed).
type boundError struct{ d time.Duration }

func (e *boundError) Error() string {
	return fmt.Sprintf("the per-request bound of %s ran out", e.d)
}

// NextUTCMidnight is when users report the daily quota resets. It is an
// estimate: the API documents no reset time.
func NextUTCMidnight(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}

// unwrapURLError returns the cause inside a *url.Error, whose own message
// repeats the request URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
