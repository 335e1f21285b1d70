// Command adharvest harvests TikTok's Commercial Content API (the Ad Library
// research API) into Parquet, resumably, and queries the result with DuckDB.
// See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"

	"adharvest/harvest"
)

// Exit codes, as shared/cli.md fixes them.
const (
	exitOK     = 0
	exitFail   = 1
	exitUsage  = 2
	exitResume = 75
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for {
			s := <-sigs
			if f := onInterrupt.Load(); f != nil && s == os.Interrupt {
				(*f)()
				continue
			}
			break
		}
		fmt.Fprintln(os.Stderr, "adharvest: stopping at a safe point; press Ctrl-C again to quit at once (the checkpoint stays consistent)")
		cancel()
		<-sigs
		fmt.Fprintln(os.Stderr, "adharvest: quitting now; run the same command again to resume")
		os.Exit(exitResume)
	}()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// onInterrupt, when set, takes Ctrl-C instead of stopping the command: the sql
// prompt uses it to cancel only the statement that is running.
var onInterrupt atomic.Pointer[func()]

// run executes the command line and maps its outcome to an exit code in one place.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := newApp(stdout, stderr).RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	code, msg := classify(err)
	fmt.Fprintln(stderr, "adharvest: "+oneLine(msg))
	return code
}

// actionError marks an error that came out of a command's own code; anything
// else urfave/cli returns is a problem with the command line itself.
type actionError struct{ err error }

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

func classify(err error) (int, string) {
	var ue *harvest.UsageError
	var se *harvest.StopError
	var ae *actionError
	switch {
	case errors.As(err, &ue):
		return exitUsage, ue.Msg
	case errors.As(err, &se):
		msg := "stopped early: " + se.Reason
		if !se.ResetAt.IsZero() {
			msg += fmt.Sprintf("; it usually resets at %s (estimate: the API does not document it)", se.ResetAt.UTC().Format("2006-01-02 15:04 MST"))
		}
		return exitResume, msg + "; run the same command again to resume"
	case errors.As(err, &ae):
		return exitFail, ae.err.Error()
	}
	return exitUsage, err.Error() + " (see --help)"
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
