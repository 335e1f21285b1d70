// Package sqlprompt is the interactive prompt of adharvest sql: statements that
// span lines and end with ';', dot commands (.tables, .schema, .format, .help,
// .quit), line editing with a history on a terminal, and Ctrl-C that cancels
// the running statement instead of the session. Its loop (Prompt.run) reads
// lines from a lineSource: a line editor on a terminal, or any io.Reader
// (tests, and a terminal whose output is redirected).
package sqlprompt

import (
	"adharvest/queries"
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/peterh/liner"
	"golang.org/x/term"
)

// errInterrupted is a lineSource's answer to Ctrl-C: drop the statement
// being typed.
var errInterrupted = errors.New("interrupted")

type lineSource interface {
	// ReadLine shows prompt (where it can) and returns one line without its
	// newline; io.EOF at the end of input.
	ReadLine(prompt string) (string, error)
}

// readerLines reads lines from an io.Reader, writing prompts to a writer if
// one is given.
type readerLines struct {
	sc     *bufio.Scanner
	prompt io.Writer
}

func newReaderLines(r io.Reader, prompt io.Writer) *readerLines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	return &readerLines{sc: sc, prompt: prompt}
}

func (l *readerLines) ReadLine(prompt string) (string, error) {
	if l.prompt != nil {
		io.WriteString(l.prompt, prompt)
	}
	if l.sc.Scan() {
		return strings.TrimSuffix(l.sc.Text(), "\r"), nil
	}
	if err := l.sc.Err(); err != nil {
		return "", err
	}
	return "", io.EOF
}

// linerLines reads lines through the liner line editor.
type linerLines struct{ st *liner.State }

func (l linerLines) ReadLine(prompt string) (string, error) {
	s, err := l.st.Prompt(prompt)
	if errors.Is(err, liner.ErrPromptAborted) {
		return "", errInterrupted
	}
	return s, err
}

const (
	replPrompt = "adharvest> "
	replMore   = "       ...> "
)

const replHelp = `Statements end with ';' and can span lines; Ctrl-C drops the one being typed.
.tables           list the tables (views)
.schema TABLE     the columns of TABLE (DESCRIBE)
.format FORMAT    table, csv or json for the results that follow
.help             this text
.quit             leave (Ctrl-D too)
`

// Prompt runs statements and dot commands against one engine.
type Prompt struct {
	Engine *queries.Engine
	Out    io.Writer // results
	Err    io.Writer // errors
	Format string    // table, csv or json; .format changes it
	// Options adjust the CSV and JSON output (see queries.WriteOptions).
	Options queries.WriteOptions
	// Interrupt, when set, takes over Ctrl-C while a statement runs: it is
	// called with a function that cancels that statement before it starts, and
	// with nil once it has ended.
	Interrupt func(cancel func())

	ctx context.Context
	// remember adds an entry to the history; nil keeps none.
	remember func(entry string)
}

// Run runs the prompt's loop over the lines of in, without prompts or
// history: what the interactive prompt does, for tests and scripts.
func (r *Prompt) Run(ctx context.Context, in io.Reader) error {
	r.ctx = ctx
	return r.run(newReaderLines(in, nil))
}

// run reads until .quit or the end of input. A failing statement prints its
// error and the loop goes on; only a failure to read input ends it with an
// error.
func (r *Prompt) run(src lineSource) error {
	pending := "" // the statement being typed
	for {
		prompt := replPrompt
		if pending != "" {
			prompt = replMore
		}
		line, err := src.ReadLine(prompt)
		switch {
		case errors.Is(err, errInterrupted):
			pending = ""
			continue
		case errors.Is(err, io.EOF):
			if rest := strings.TrimSpace(pending); rest != "" {
				r.statements(queries.SplitStatements(rest))
			}
			return nil
		case err != nil:
			return err
		}
		if r.ctx.Err() != nil {
			return nil
		}
		if cmd := strings.TrimSpace(line); strings.HasPrefix(cmd, ".") {
			if stmts, rest := queries.SplitComplete(pending); len(stmts) == 0 && rest == "" {
				// Nothing but blanks or comments typed so far.
				pending = ""
				r.note(cmd)
				if r.command(cmd) {
					return nil
				}
				continue
			}
		}
		pending += line + "\n"
		stmts, rest := queries.SplitComplete(pending)
		if len(stmts) == 0 {
			if strings.TrimSpace(pending) == "" {
				pending = ""
			}
			continue
		}
		pending = ""
		if rest != "" {
			pending = rest + "\n"
		}
		if !r.statements(stmts) {
			return nil
		}
	}
}

// statements runs each statement and prints its result or its error. It
// returns false when the command was interrupted.
func (r *Prompt) statements(stmts []string) bool {
	for _, s := range stmts {
		r.note(strings.Join(strings.Fields(s), " ") + ";")
		// Ctrl-C while a statement runs cancels that statement, not the session.
		ctx, cancel := context.WithCancel(r.ctx)
		if r.Interrupt != nil {
			r.Interrupt(cancel)
		}
		rows, err := r.Engine.Query(ctx, s)
		if err == nil {
			err = queries.WriteWith(r.Out, r.Format, rows, r.Options)
		}
		if r.Interrupt != nil {
			r.Interrupt(nil)
		}
		interrupted := ctx.Err() != nil
		cancel()
		if r.ctx.Err() != nil {
			return false
		}
		if interrupted {
			fmt.Fprintln(r.Err, "Interrupted.")
			return true
		}
		if err != nil {
			r.fail(err)
		}
	}
	return true
}

func (r *Prompt) note(entry string) {
	if r.remember != nil {
		r.remember(entry)
	}
}

func (r *Prompt) fail(err error) {
	fmt.Fprintln(r.Err, "Error: "+strings.TrimPrefix(err.Error(), "query: "))
}

// plainIdent is a name that DESCRIBE gets quoted; anything else (schema.table,
// an already quoted name) is passed as typed.
var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// command runs one dot command and reports whether it asks to leave.
func (r *Prompt) command(line string) (quit bool) {
	fields := strings.Fields(line)
	arg := strings.TrimSpace(strings.TrimPrefix(line, fields[0]))
	arg = strings.TrimSpace(strings.TrimSuffix(arg, ";"))
	switch fields[0] {
	case ".quit", ".exit", ".q":
		return true
	case ".help":
		io.WriteString(r.Out, replHelp)
	case ".tables":
		rows, err := r.Engine.Query(r.ctx, `SELECT table_name AS name, table_type AS type
FROM information_schema.tables
WHERE table_catalog = current_database() AND table_schema = 'main'
ORDER BY table_name`)
		if err != nil {
			r.fail(err)
			return false
		}
		defer rows.Close()
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				r.fail(err)
				return false
			}
			fmt.Fprintln(r.Out, name)
		}
		if err := rows.Err(); err != nil {
			r.fail(err)
		}
	case ".schema":
		if arg == "" {
			fmt.Fprintln(r.Err, "Error: usage: .schema TABLE (.tables lists them)")
			return false
		}
		name := arg
		if plainIdent.MatchString(name) {
			name = `"` + name + `"`
		}
		rows, err := r.Engine.Query(r.ctx, "DESCRIBE "+name)
		if err == nil {
			err = queries.WriteWith(r.Out, r.Format, rows, r.Options)
		}
		if err != nil {
			r.fail(err)
		}
	case ".format":
		switch arg {
		case "table", "csv", "json":
			r.Format = arg
		default:
			fmt.Fprintf(r.Err, "Error: usage: .format table|csv|json (now %s)\n", r.Format)
		}
	default:
		fmt.Fprintf(r.Err, "Error: unknown command %s (.help lists them)\n", fields[0])
	}
	return false
}

// RunTerminal is the prompt on a terminal: line editing and a history kept
// in the user's cache folder (adharvest/history).
func (r *Prompt) RunTerminal(ctx context.Context) error {
	r.ctx = ctx
	eng := r.Engine
	if !term.IsTerminal(int(os.Stdout.Fd())) {
		// liner edits lines only when it also owns the output.
		return r.run(newReaderLines(os.Stdin, r.Err))
	}
	st := liner.NewLiner()
	defer st.Close()
	st.SetCtrlCAborts(true)
	st.SetMultiLineMode(true)
	st.SetTabCompletionStyle(liner.TabPrints)
	st.SetWordCompleter(replCompleter(ctx, eng))
	hist := historyFile()
	if hist != "" {
		if f, err := os.Open(hist); err == nil {
			st.ReadHistory(f)
			f.Close()
		}
	}
	r.remember = func(entry string) { st.AppendHistory(entry) }
	fmt.Fprintf(r.Out, "adharvest sql on %s: end statements with ';'; .tables, .schema TABLE, .help, .quit\n", eng.Dir())
	err := r.run(linerLines{st})
	if hist != "" {
		saveHistory(st, hist)
	}
	return err
}

// historyFile is where the prompt keeps its history, or "" when the user
// has no cache folder.
func historyFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	return filepath.Join(dir, "adharvest", "history")
}

// saveHistory writes the history, readable by its owner only (queries can
// name things worth keeping private). Failures are not worth an error.
func saveHistory(st *liner.State, path string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return
	}
	st.WriteHistory(f)
	f.Close()
}

// replCompleter completes dot commands and table names.
func replCompleter(ctx context.Context, eng *queries.Engine) liner.WordCompleter {
	var words []string
	words = append(words, ".tables", ".schema", ".format", ".help", ".quit")
	if rows, err := eng.Query(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' ORDER BY 1"); err == nil {
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				words = append(words, n)
			}
		}
		rows.Close()
	}
	return func(line string, pos int) (head string, completions []string, tail string) {
		start := strings.LastIndexAny(line[:pos], " \t(,") + 1
		word := line[start:pos]
		if word == "" {
			return line[:pos], nil, line[pos:]
		}
		for _, w := range words {
			if strings.HasPrefix(w, word) && (w[0] == '.') == (start == 0 && word[0] == '.') {
				completions = append(completions, w)
			}
		}
		return line[:start], completions, line[pos:]
	}
}
