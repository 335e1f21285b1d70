// Package commands is adharvest's command line. Each command is a type with
// the options it needs and a Run(ctx) error method, so that tests build the
// options directly; the urfave/cli actions only parse flags into one. Main
// runs a command line and maps its outcome to an exit code in one place.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"adharvest/crawl"
	"adharvest/job"
	"adharvest/queries"

	"github.com/urfave/cli/v2"
)

// Exit codes, as shared/cli.md fixes them.
const (
	ExitOK     = 0
	ExitFail   = 1
	ExitUsage  = 2
	ExitResume = 75
)

// Version is the tool's version, stamped into manifests.
var Version = "dev"

// Env is what a command line runs with.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Interrupt, when set, lets a command take Ctrl-C for itself: called with
	// a function, Ctrl-C calls that function instead of stopping the command;
	// called with nil, Ctrl-C stops the command again. The sql prompt uses it
	// to cancel only the statement that is running.
	Interrupt func(f func())
}

// UsageError is bad input: exit code 2, one line, nothing sent, nothing written.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// Main runs the command line args (args[0] is the program) and returns the
// exit code, printing the error, if any, as one line on env.Stderr.
func Main(ctx context.Context, env Env, args []string) int {
	err := App(env).RunContext(ctx, args)
	if err == nil {
		return ExitOK
	}
	code, msg := classify(err)
	fmt.Fprintln(env.Stderr, "adharvest: "+oneLine(msg))
	return code
}

// classify maps an error to its exit code and message. Only typed usage
// errors give 2; anything a command did not expect is a failure (1).
func classify(err error) (int, string) {
	var (
		ue *UsageError
		ie *crawl.InputError
		fe *job.FieldError
		fi *job.FileError
		qe *queries.QueryError
		se *crawl.StopError
	)
	switch {
	case errors.As(err, &ue):
		return ExitUsage, ue.Msg
	case errors.As(err, &fe), errors.As(err, &fi), errors.As(err, &ie), errors.As(err, &qe):
		return ExitUsage, err.Error()
	case errors.As(err, &se):
		msg := "stopped early: " + se.Reason
		if !se.ResetAt.IsZero() {
			msg += fmt.Sprintf("; it usually resets at %s (estimate: the API does not document it)", se.ResetAt.UTC().Format("2006-01-02 15:04 MST"))
		}
		return ExitResume, msg + "; run the same command again to resume"
	}
	return ExitFail, err.Error()
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// App is the urfave/cli application. Its actions are adapters: they parse
// flags into a command's options and call its Run.
func App(env Env) *cli.App {
	usageErr := func(_ *cli.Context, err error, _ bool) error {
		return &UsageError{Msg: err.Error() + " (see --help)"}
	}
	cmds := []*cli.Command{harvestCommand(), planCommand(), statusCommand(), checkCommand(), sqlCommand(env), demoCommand(), fakeAPICommand(), reportCommand(), exportCommand()}
	for _, c := range cmds {
		c.OnUsageError = usageErr
	}
	return &cli.App{
		Name:    "adharvest",
		Usage:   "harvest TikTok's Commercial Content API (Ad Library) into Parquet, resumably",
		Version: Version,
		UsageText: `adharvest COMMAND [flags]

Examples:
   adharvest demo                                   # offline harvest from the bundled fake API
   adharvest harvest --out DIR --countries EEA --from 2024-01-01 --to 2024-01-31
   adharvest status --out DIR
   adharvest sql --out DIR "SELECT country_code, count(*) FROM ads GROUP BY 1"`,
		Commands: cmds,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("%q is not a command (see --help)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Reader:          env.Stdin,
		Writer:          env.Stdout,
		ErrWriter:       env.Stderr,
		OnUsageError:    usageErr,
		ExitErrHandler:  func(*cli.Context, error) {},
		HideHelpCommand: true,
	}
}

// noArgs is a usage error when a command that takes none got arguments.
func noArgs(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usagef("%s takes no arguments, got %q", c.Command.Name, c.Args().First())
	}
	return nil
}
