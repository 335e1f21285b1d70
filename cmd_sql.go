package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"adharvest/harvest"
	"adharvest/queries"
	"adharvest/sink"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/peterh/liner"
	"github.com/rivo/uniseg"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func sqlCommand() *cli.Command {
	return &cli.Command{
		Name:  "sql",
		Usage: "run SQL over a harvest folder with embedded DuckDB",
		UsageText: `adharvest sql --out DIR [--format table|csv|json|parquet] [--output FILE] "SELECT ..." | -
adharvest sql --out DIR --query NAME [--format ...] [--output FILE]
adharvest sql --list
adharvest sql --out DIR --print-views [--output FILE]
adharvest sql --out DIR          (a prompt on a terminal; otherwise the query is read from standard input)

Every table is a view: ads (one row per ad_id and country_code, the newest fetch) and
ads_all (every fetch). An error shows DuckDB's message with the line and column at fault.
--output writes the file atomically (a temporary name, then a rename). A query that starts
with "--" (a comment) goes after a "--" argument, or on standard input.

Examples:
   adharvest sql --out eea-2024-01 "SELECT country_code, count(*) AS ads FROM ads GROUP BY 1 ORDER BY 2 DESC"
   adharvest sql --out eea-2024-01 --format csv "SELECT * FROM ads" > ads.csv
   adharvest sql --out eea-2024-01 --format json --output ads.json "SELECT ad_id, reach_text FROM ads"
   adharvest sql --out eea-2024-01 --format parquet --output de.parquet "SELECT * FROM ads WHERE country_code = 'DE'"
   adharvest sql --list                                         # the canned analyses
   adharvest sql --out eea-2024-01 --query top-advertisers
   adharvest sql --out eea-2024-01 --query ads-per-country-week --format csv --output weeks.csv
   echo "SELECT count(*) FROM ads" | adharvest sql --out eea-2024-01 -
   adharvest sql --out eea-2024-01 < report.sql                 # stdin is not a terminal: run it
   adharvest sql --out eea-2024-01 --print-views > views.sql     # then: duckdb -init views.sql
   adharvest sql --out eea-2024-01                              # prompt: .tables, .schema ads, .help, .quit`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest (needed by all but --list)"},
			&cli.StringFlag{Name: "format", Usage: "table, csv, json or parquet (parquet needs --output)", Value: "table"},
			&cli.StringFlag{Name: "output", Usage: "write the result to `FILE` instead of standard output"},
			&cli.StringFlag{Name: "query", Usage: "run the canned analysis `NAME` (see --list)"},
			&cli.BoolFlag{Name: "list", Usage: "list the canned analyses, with what each shows"},
			&cli.BoolFlag{Name: "print-views", Usage: "print the view definitions as SQL that any DuckDB client can run"},
		},
		Action: runSQL,
	}
}

func runSQL(c *cli.Context) error {
	out, format, output := c.String("out"), c.String("format"), c.String("output")
	args := c.Args().Slice()
	w := c.App.Writer
	if c.Bool("list") {
		if len(args) > 0 || c.IsSet("query") || c.Bool("print-views") {
			return harvest.Usagef("--list takes no query")
		}
		return wrapAction(writeAnalysisList(w))
	}
	switch format {
	case "table", "csv", "json", "parquet":
	default:
		return harvest.Usagef("--format %q is not table, csv, json or parquet", format)
	}
	if format == "parquet" && output == "" {
		return harvest.Usagef("--format parquet needs --output FILE")
	}
	if output != "" {
		if err := checkOutputFile(output); err != nil {
			return err
		}
	}
	if out == "" {
		return harvest.Usagef("give the harvest folder: adharvest sql --out DIR \"SELECT count(*) FROM ads\"")
	}
	if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
		return harvest.Usagef("--out %s is not a harvest folder", out)
	}

	if c.Bool("print-views") {
		if len(args) > 0 || c.IsSet("query") {
			return harvest.Usagef("--print-views takes no query")
		}
		if c.IsSet("format") {
			return harvest.Usagef("--print-views prints SQL: leave out --format")
		}
		// An absolute path, so that the script runs from any folder.
		abs, err := filepath.Abs(out)
		if err != nil {
			return wrapAction(err)
		}
		script, err := queries.Views(abs)
		if err != nil {
			return wrapAction(err)
		}
		return wrapAction(writeResult(w, output, func(w io.Writer) error {
			_, err := io.WriteString(w, script)
			return err
		}))
	}

	var query string
	switch {
	case c.IsSet("query"):
		if len(args) > 0 {
			return harvest.Usagef("give either --query NAME or a query, not both")
		}
		a, ok := queries.LookupAnalysis(c.String("query"))
		if !ok {
			return harvest.Usagef("--query %q is not a canned analysis (valid: %s)", c.String("query"), strings.Join(queries.AnalysisNames(), ", "))
		}
		query = a.SQL
	case len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(c.App.Reader)
		if err != nil {
			return wrapAction(fmt.Errorf("read the query from standard input: %w", err))
		}
		query = string(b)
	case len(args) > 0:
		query = strings.Join(args, " ")
	case isTerminal(c.App.Reader):
		if output != "" || format == "parquet" {
			return harvest.Usagef("the interactive prompt writes to the terminal: give a query to use --output")
		}
		return runInteractive(c.Context, out, format, w, c.App.ErrWriter)
	default:
		b, err := io.ReadAll(c.App.Reader)
		if err != nil {
			return wrapAction(fmt.Errorf("read the query from standard input: %w", err))
		}
		query = string(b)
	}
	if len(queries.SplitStatements(query)) == 0 {
		return harvest.Usagef("give a query, e.g. adharvest sql --out %s \"SELECT count(*) FROM ads\" (or --query NAME, or - to read it from standard input)", out)
	}

	eng, err := queries.Open(c.Context, out)
	if err != nil {
		return wrapAction(err)
	}
	defer eng.Close()
	if format == "parquet" {
		_, err := eng.WriteParquet(c.Context, query, output)
		return sqlError(c.Context, err, query)
	}
	rows, err := eng.Query(c.Context, query)
	if err != nil {
		return sqlError(c.Context, err, query)
	}
	defer rows.Close()
	err = writeResult(w, output, func(w io.Writer) error { return queries.Write(w, format, rows) })
	return sqlError(c.Context, err, query)
}

// writeResult writes through write to w, or atomically to the file output.
func writeResult(w io.Writer, output string, write func(io.Writer) error) error {
	if output == "" {
		return write(w)
	}
	return sink.WriteFileAtomic(output, write)
}

// checkOutputFile is a usage error unless output can be written: its folder
// exists and it is not a folder itself.
func checkOutputFile(output string) error {
	if fi, err := os.Stat(output); err == nil && fi.IsDir() {
		return harvest.Usagef("--output %s is a folder", output)
	}
	if fi, err := os.Stat(filepath.Dir(output)); err != nil || !fi.IsDir() {
		return harvest.Usagef("--output %s: folder %s does not exist", output, filepath.Dir(output))
	}
	return nil
}

// sqlError turns what went wrong with a query into the command's error:
// DuckDB's complaints about the query are usage errors, on one line that
// keeps the position DuckDB pointed at.
func sqlError(ctx context.Context, err error, query string) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return wrapAction(errors.New("interrupted"))
	}
	var de *duckdb.Error
	if errors.As(err, &de) || strings.HasPrefix(err.Error(), "query: ") {
		return &harvest.UsageError{Msg: queryErrorLine(err.Error(), query)}
	}
	return wrapAction(err)
}

// duckPointer matches the end of a DuckDB error message that points at the
// problem: "\n\nLINE 3: WHERE nope = 2\n              ^".
var duckPointer = regexp.MustCompile(`\n*LINE (\d+): ([^\n]*)\n( *)\^\s*$`)

// queryErrorLine rewrites the "LINE n: … ^" pointer of a DuckDB message,
// which needs two lines to mean anything, as "(at line n, column c, near
// "…")", so that the message survives being printed as one line. Column c
// counts characters in the query's line n.
func queryErrorLine(msg, query string) string {
	m := duckPointer.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg
	}
	n, _ := strconv.Atoi(msg[m[2]:m[3]])
	snippet := msg[m[4]:m[5]]
	caret := (m[7] - m[6]) - len("LINE "+msg[m[2]:m[3]]+": ")
	head := strings.TrimSpace(msg[:m[0]])
	off := widthOffset(snippet, caret)

	pos := "line " + strconv.Itoa(n)
	if lines := strings.Split(query, "\n"); n >= 1 && n <= len(lines) {
		// DuckDB shows a window of long lines, between "..." marks.
		shown, lead := snippet, 0
		if strings.HasPrefix(shown, "...") {
			shown, lead = shown[3:], 3
		}
		shown = strings.TrimSuffix(shown, "...")
		if i := strings.Index(lines[n-1], shown); i >= 0 && off >= lead && off-lead <= len(shown) {
			pos += ", column " + strconv.Itoa(utf8.RuneCountInString(lines[n-1][:i+off-lead])+1)
		}
	}
	near := strings.TrimSpace(strings.TrimSuffix(snippet[off:], "..."))
	if utf8.RuneCountInString(near) > 40 {
		near = string([]rune(near)[:40]) + "…"
	}
	if near == "" {
		return head + " (at " + pos + ", at the end)"
	}
	return head + " (at " + pos + ", near \"" + near + "\")"
}

// widthOffset is the byte offset in s of the character at terminal column
// width (DuckDB places its caret by display width).
func widthOffset(s string, width int) int {
	at, state := 0, -1
	for rest := s; len(rest) > 0 && width > 0; {
		cluster, next, w, st := uniseg.FirstGraphemeClusterInString(rest, state)
		at += len(cluster)
		width -= max(w, 1)
		rest, state = next, st
	}
	return at
}

func writeAnalysisList(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	for _, a := range queries.Analyses() {
		fmt.Fprintf(tw, "%s\t%s\n", a.Name, a.Description)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "\nrun one: adharvest sql --out DIR --query NAME [--format csv] [--output FILE]")
	return err
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// The interactive prompt. Its loop (repl.run) reads lines from a lineSource:
// a line editor with history on a terminal, or any io.Reader (tests, and a
// terminal whose output is redirected).

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

// repl runs statements and dot commands against one engine.
type repl struct {
	ctx    context.Context
	eng    *queries.Engine
	out    io.Writer // results
	errOut io.Writer // errors
	format string
	// remember adds an entry to the history; nil keeps none.
	remember func(entry string)
}

// runREPL runs the prompt's loop over the lines of in, without prompts or
// history: what the interactive prompt does, for tests and scripts.
func runREPL(ctx context.Context, eng *queries.Engine, in io.Reader, out, errOut io.Writer, format string) error {
	r := &repl{ctx: ctx, eng: eng, out: out, errOut: errOut, format: format}
	return r.run(newReaderLines(in, nil))
}

// run reads until .quit or the end of input. A failing statement prints its
// error and the loop goes on; only a failure to read input ends it with an
// error.
func (r *repl) run(src lineSource) error {
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
func (r *repl) statements(stmts []string) bool {
	for _, s := range stmts {
		r.note(strings.Join(strings.Fields(s), " ") + ";")
		// Ctrl-C while a statement runs cancels that statement, not the session.
		ctx, cancel := context.WithCancel(r.ctx)
		f := func() { cancel() }
		onInterrupt.Store(&f)
		rows, err := r.eng.Query(ctx, s)
		if err == nil {
			err = queries.Write(r.out, r.format, rows)
		}
		onInterrupt.Store(nil)
		interrupted := ctx.Err() != nil
		cancel()
		if r.ctx.Err() != nil {
			return false
		}
		if interrupted {
			fmt.Fprintln(r.errOut, "Interrupted.")
			return true
		}
		if err != nil {
			r.fail(err)
		}
	}
	return true
}

func (r *repl) note(entry string) {
	if r.remember != nil {
		r.remember(entry)
	}
}

func (r *repl) fail(err error) {
	fmt.Fprintln(r.errOut, "Error: "+strings.TrimPrefix(err.Error(), "query: "))
}

// plainIdent is a name that DESCRIBE gets quoted; anything else (schema.table,
// an already quoted name) is passed as typed.
var plainIdent = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// command runs one dot command and reports whether it asks to leave.
func (r *repl) command(line string) (quit bool) {
	fields := strings.Fields(line)
	arg := strings.TrimSpace(strings.TrimPrefix(line, fields[0]))
	arg = strings.TrimSpace(strings.TrimSuffix(arg, ";"))
	switch fields[0] {
	case ".quit", ".exit", ".q":
		return true
	case ".help":
		io.WriteString(r.out, replHelp)
	case ".tables":
		rows, err := r.eng.Query(r.ctx, `SELECT table_name AS name, table_type AS type
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
			fmt.Fprintln(r.out, name)
		}
		if err := rows.Err(); err != nil {
			r.fail(err)
		}
	case ".schema":
		if arg == "" {
			fmt.Fprintln(r.errOut, "Error: usage: .schema TABLE (.tables lists them)")
			return false
		}
		name := arg
		if plainIdent.MatchString(name) {
			name = `"` + name + `"`
		}
		rows, err := r.eng.Query(r.ctx, "DESCRIBE "+name)
		if err == nil {
			err = queries.Write(r.out, r.format, rows)
		}
		if err != nil {
			r.fail(err)
		}
	case ".format":
		switch arg {
		case "table", "csv", "json":
			r.format = arg
		default:
			fmt.Fprintf(r.errOut, "Error: usage: .format table|csv|json (now %s)\n", r.format)
		}
	default:
		fmt.Fprintf(r.errOut, "Error: unknown command %s (.help lists them)\n", fields[0])
	}
	return false
}

// runInteractive is the prompt on a terminal: line editing and a history kept
// in the user's cache folder (adharvest/history).
func runInteractive(ctx context.Context, dir, format string, stdout, stderr io.Writer) error {
	eng, err := queries.Open(ctx, dir)
	if err != nil {
		return wrapAction(err)
	}
	defer eng.Close()
	r := &repl{ctx: ctx, eng: eng, out: stdout, errOut: stderr, format: format}
	if !term.IsTerminal(int(os.Stdout.Fd())) {
		// liner edits lines only when it also owns the output.
		return wrapAction(r.run(newReaderLines(os.Stdin, stderr)))
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
	fmt.Fprintf(stdout, "adharvest sql on %s: end statements with ';'; .tables, .schema TABLE, .help, .quit\n", eng.Dir())
	err = r.run(linerLines{st})
	if hist != "" {
		saveHistory(st, hist)
	}
	return wrapAction(err)
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
