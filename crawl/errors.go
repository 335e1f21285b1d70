package crawl

import (
	"errors"
	"fmt"
	"time"
)

// Sentinels of the crawl's own budgets.
var (
	// ErrBudget means the user's own --daily-quota budget is spent.
	ErrBudget = errors.New("daily request budget reached")
	// ErrDetailBudget means this run's --detail-budget of ad/detail calls is spent.
	ErrDetailBudget = errors.New("ad/detail budget for this run reached")
)

// InputError is a harvest that Run refuses before it sends a request or
// writes anything: a folder that holds a different job, cannot be written or
// is held by another harvest, missing credentials, an unusable API URL. The
// command line reports it as bad input.
type InputError struct {
	Msg string
	Err error
}

func (e *InputError) Error() string { return e.Msg }
func (e *InputError) Unwrap() error { return e.Err }

// DamageError is a folder whose state is damaged (a checkpoint bbolt cannot
// read); its message says how to repair it. It is a failure, not bad input.
type DamageError struct {
	Msg string
	Err error
}

func (e *DamageError) Error() string { return e.Msg }
func (e *DamageError) Unwrap() error { return e.Err }

func inputErr(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}

// StopError ends a crawl early but resumably (exit 75): the quota or the user's
// budget is spent, or the user interrupted.
type StopError struct {
	Reason  string
	ResetAt time.Time
	Err     error
}

func (e *StopError) Error() string { return e.Reason }
func (e *StopError) Unwrap() error { return e.Err }

// FailedError reports shards that failed for good in this run; the rest of the
// crawl went on. Re-running retries them.
type FailedError struct {
	Failed []string
	First  error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("%d shard(s) failed, first %s: %v; run the same command again to retry them", len(e.Failed), e.Failed[0], e.First)
}
