package media

import (
	"errors"
	"fmt"
)

// Sentinels.
var (
	// ErrBudget means this run's byte budget (Options.Budget) is spent: the
	// next file would not fit.
	ErrBudget = errors.New("media byte budget reached")
	// ErrNoHarvest means the folder holds no harvest to archive the media of.
	ErrNoHarvest = errors.New("no harvest in the folder")
	// errTooLarge ends a body that grows past the per-file cap.
	errTooLarge = errors.New("larger than the per-file cap")
	// errFinished is a part added to a queue after Finish.
	errFinished = errors.New("media queue already finished")
)

// StopError ends a media run early but resumably (the command line exits
// 75): the budget is spent (Err is ErrBudget) or the context was cancelled
// (Err is the context's error). Everything finished before the stop is kept;
// the next run goes on from there. Package crawl may wrap it in its own
// StopError.
type StopError struct {
	Reason string
	Err    error
}

func (e *StopError) Error() string { return e.Reason }
func (e *StopError) Unwrap() error { return e.Err }

// refusedError is a URL or redirect this package will not fetch.
type refusedError struct{ msg string }

func (e *refusedError) Error() string { return e.msg }

func refusedf(format string, args ...any) error {
	return &refusedError{msg: fmt.Sprintf(format, args...)}
}
