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
	"path/filepath"
	"regexp"
	"runtime"
	"strings"

	"adharvest/crawl"
	"adharvest/internal/buildinfo"
	"adharvest/job"
	"adharvest/media"
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

// Version is the tool's version as the manifest, the report and --version
// show it, read from the build (see package buildinfo): a release tag, or
// the commit for a build from a git checkout, "devel" when neither is known.
var Version = buildinfo.Read().String()

// Env is what a command line runs with.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Interrupt, when set, lets a command take Ctrl-C for itself: called with
	// a function, Ctrl-C calls that function instead of stopping the command;
	// called with nil, Ctrl-C stops the command again. The sql prompt uses it
	// to cancel only the statement that is running.
	Interrupt func(f func())
	// Program is how the user runs adharvest, for the commands that hints
	// and examples print: "adharvest", "./adharvest" or "go run ." (see
	// Invocation). "" is "adharvest".
	Program string
}

// Invocation is how the user ran this program, from os.Args[0] and
// os.Executable: "go run ." when exe is a binary that `go run` built (in a
// go-build temporary folder, or in the build cache, where Go keeps them
// since 1.24), otherwise arg0 as the user typed it ("adharvest" when the
// shell found it on PATH, "./adharvest" when not).
func Invocation(arg0, exe string) string {
	if goRunBinary(exe) {
		return "go run ."
	}
	if arg0 == "" {
		return "adharvest"
	}
	return shellQuote(arg0)
}

// cacheExeDir is the build cache's folder of a `go run` binary.
var cacheExeDir = regexp.MustCompile(`^[0-9a-f]{64}-d$`)

func goRunBinary(exe string) bool {
	if exe == "" {
		return false
	}
	dir := filepath.Dir(exe)
	if cacheExeDir.MatchString(filepath.Base(dir)) {
		return true // GOCACHE/xx/<hash>-d/adharvest
	}
	if filepath.Base(dir) != "exe" {
		return false
	}
	// $TMPDIR/go-build123/b001/exe/adharvest
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if strings.HasPrefix(filepath.Base(d), "go-build") {
			return true
		}
		if filepath.Dir(d) == d {
			return false
		}
	}
}

// shellQuote is s as a shell word: as it is when it needs no quoting,
// else quoted (double quotes on Windows, whose shells take those).
func shellQuote(s string) string {
	safe := "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:@+=,"
	if runtime.GOOS == "windows" {
		safe += `\`
	} else {
		safe += "%"
	}
	if s != "" && strings.Trim(s, safe) == "" {
		return s
	}
	if runtime.GOOS == "windows" {
		return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commandHint matches "adharvest <command>" in a message or an example,
// but not _adharvest/ or a path to a binary.
var commandHint = regexp.MustCompile(`(^|[^\w/.-])adharvest (harvest|plan|status|check|reparse|media|sql|export|report|demo|fake-api)\b`)

// asInvoked rewrites the commands that s suggests for the way the user runs
// adharvest (prog, see Env.Program).
func asInvoked(prog, s string) string {
	if prog == "" || prog == "adharvest" {
		return s
	}
	return commandHint.ReplaceAllString(s, "${1}"+strings.ReplaceAll(prog, "$", "$$")+" ${2}")
}

// program is how the user runs adharvest, as App was told.
func program(c *cli.Context) string {
	if p, ok := c.App.Metadata["program"].(string); ok && p != "" {
		return p
	}
	return "adharvest"
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
	fmt.Fprintln(env.Stderr, "adharvest: "+asInvoked(env.Program, oneLine(msg)))
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
	case errors.As(err, new(*media.StopError)):
		return ExitResume, "stopped early: " + err.Error() + "; run the same command again to resume"
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
	cmds := []*cli.Command{harvestCommand(), planCommand(), statusCommand(), checkCommand(), reparseCommand(), sqlCommand(env), demoCommand(), fakeAPICommand(), reportCommand(), exportCommand(), mediaCommand()}
	for _, c := range cmds {
		c.OnUsageError = usageErr
		// The examples, as the user runs adharvest ("go run . sql …").
		c.UsageText = asInvoked(env.Program, c.UsageText)
		showDefaults(c.Flags)
	}
	prog := env.Program
	if prog == "" {
		prog = "adharvest"
	}
	return &cli.App{
		Name:  "adharvest",
		Usage: "harvest TikTok's Commercial Content API (Ad Library) into Parquet, resumably",
		// --version: "adharvest version v1.2.3 (57b527b510bc), go1.26.8 linux/amd64".
		Version:  fmt.Sprintf("%s, %s %s/%s", Version, buildinfo.Read().Go, runtime.GOOS, runtime.GOARCH),
		Metadata: map[string]any{"program": prog},
		UsageText: asInvoked(env.Program, `adharvest COMMAND [flags]

Examples:
   adharvest demo                                   # offline harvest from the bundled fake API
   adharvest harvest --out DIR --countries EEA --from 2024-01-01 --to 2024-01-31
   adharvest status --out DIR
   adharvest sql --out DIR "SELECT country_code, count(*) FROM ads GROUP BY 1"`),
		Commands: cmds,
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usagef("%q is not a command (see --help)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		Reader: env.Stdin,
		Writer: env.Stdout,
		// Through a Console, so that what is written there never tears the
		// progress display (main passes its own, for its Ctrl-C notices).
		ErrWriter:       consoleOf(env.Stderr),
		OnUsageError:    usageErr,
		ExitErrHandler:  func(*cli.Context, error) {},
		HideHelpCommand: true,
	}
}

// showDefaults makes every flag's "(default: …)" read as what it means:
// "none" for a number whose 0 switches something off (a --daily-quota of
// 0 is no budget, not a budget of zero), nothing for a switch that is off,
// "on" for one that is on, and text unquoted. A flag that says its own
// DefaultText keeps it.
func showDefaults(flags []cli.Flag) {
	for _, f := range flags {
		switch f := f.(type) {
		case *cli.IntFlag:
			if f.Value == 0 && f.DefaultText == "" {
				f.DefaultText = "none"
			}
		case *cli.Int64Flag:
			if f.Value == 0 && f.DefaultText == "" {
				f.DefaultText = "none"
			}
		case *cli.Float64Flag:
			if f.Value == 0 && f.DefaultText == "" {
				f.DefaultText = "none"
			}
		case *cli.BoolFlag:
			switch {
			case f.DefaultText != "":
			case f.Value:
				f.DefaultText = "on"
			default:
				f.DisableDefaultText = true
			}
		case *cli.StringFlag:
			if f.DefaultText == "" && f.Value != "" {
				f.DefaultText = f.Value
			}
		}
	}
}

// noArgs is a usage error when a command that takes none got arguments.
func noArgs(c *cli.Context) error {
	if c.Args().Len() > 0 {
		return usagef("%s takes no arguments, got %q", c.Command.Name, c.Args().First())
	}
	return nil
}
