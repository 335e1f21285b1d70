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
	// ErrAuth means the credentials were refused.
	ErrAuth = errors.New("credentials refused")
	// ErrSearchIDExpired is an invalid_params rejection of a search_id that the
	// API itself handed out: the shard must restart from its first page.
	ErrSearchIDExpired = errors.New("search_id invalid or expired")
	// errRetryable marks failures worth another attempt (5xx, 429 rate limit,
	// network errors, truncated or non-JSON bodies).
	errRetryable = errors.New("retryable")
)

// APIError is an error the API reported, with its log_id so that TikTok support
// can trace it.
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
		return e.Code == "rate_limit_exceeded" || e.HTTPStatus == 408 || e.HTTPStatus >= 500 ||
			(e.HTTPStatus == 429 && e.Code != "daily_quota_limit_exceeded")
	}
	return false
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

// BodyError is a response that could not be read as a JSON envelope: a truncated
// body or an HTML error page. It keeps a short excerpt, never the whole page.
type BodyError struct {
	Endpoint   string
	HTTPStatus int
	Excerpt    string
	Err        error
}

func (e *BodyError) Error() string {
	return fmt.Sprintf("%s: HTTP %d with unreadable body %q: %v", e.Endpoint, e.HTTPStatus, e.Excerpt, e.Err)
}

func (e *BodyError) Is(target error) bool { return target == errRetryable }

func excerpt(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return s
}

// NetError is a transport failure. It replaces *url.Error, whose message repeats
// the full request URL, so that no query string or credential can reach a log.
type NetError struct {
	Endpoint string
	Err      error
}

func (e *NetError) Error() string { return fmt.Sprintf("%s: %v", e.Endpoint, e.Err) }
func (e *NetError) Unwrap() error { return e.Err }
func (e *NetError) Is(target error) bool {
	return target == errRetryable
}

// scrubURLError strips the URL from a transport error, keeping its cause.
func scrubURLError(endpoint string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return &NetError{Endpoint: endpoint, Err: err}
}

// NextUTCMidnight is when users report the daily quota resets. It is an
// estimate: the API documents no reset time.
func NextUTCMidnight(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
