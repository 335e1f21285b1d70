package commands

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"adharvest/queries"
	"adharvest/sqlprompt"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

// SQLCommand runs SQL over a harvest folder with embedded DuckDB.
type SQLCommand struct {
	Out        string
	Format     string // table, csv, json or parquet
	FormatSet  bool   // --format was given
	Output     string // a file instead of Stdout
	Query      string // the canned analysis to run
	List       bool   // list the canned analyses
	PrintViews bool
	// Relative prints views whose paths are relative to the folder (see
	// queries.ViewsOptions), with PrintViews.
	Relative bool
	// CSVRaw writes CSV cells as they are, without the single quote that
	// keeps spreadsheets from running text as a formula.
	CSVRaw bool
	// CSVNull is the CSV cell of NULL (see queries.WriteOptions.CSVNull).
	CSVNull string
	// JSONBigIntAsString writes 64-bit integers as JSON strings (see
	// queries.WriteOptions.JSONBigIntAsString).
	JSONBigIntAsString bool

	Args  []string // the query, or "-" for standard input
	Stdin io.Reader
	// Program is how the user runs adharvest, for the commands it suggests.
	Program string
	Stdout  io.Writer
	Stderr  io.Writer
	// Interrupt is passed to the prompt (see Env.Interrupt).
	Interrupt func(f func())
}

func sqlCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:  "sql",
		Usage: "run SQL over a harvest folder with embedded DuckDB",
		UsageText: `adharvest sql --out DIR [--format table|csv|json|parquet] [--output FILE] "SELECT ..." | -
adharvest sql --out DIR --query NAME [--format ...] [--output FILE]
adharvest sql --list
adharvest sql --out DIR --print-views [--relative] [--output FILE]
adharvest sql --out DIR          (a prompt on a terminal; otherwise the query is read from standard input)

Every table is a view: ads (one row per ad_id and country_code, the newest fetch; its
search_terms lists every term the ad was found under there) and ads_all (every fetch);
field_completeness says how often each field was sent. An error shows DuckDB's message
with the line and column at fault. DIR must hold a harvest (a checkpoint, a manifest or
table files): another folder is refused. --output writes the file atomically (a temporary
name, then a rename). A query that starts with "--" (a comment) goes after a "--"
argument, or on standard input.
Several statements (separated by ;) print the result of each statement that returns rows,
one after another: a blank line between tables and between CSV blocks (each with its
header), one JSON array per result. SET, CREATE and the like print nothing, and later
statements see what they did.
CSV is for spreadsheets: a text cell that starts with = + - @ or a tab or carriage return
(an advertiser called "=HYPERLINK(...)") gets a leading ' so that it is shown, not run;
numbers are never changed. --csv-raw writes every cell exactly as it is. NULL is an empty
field and empty text is "" (quoted); --csv-null TEXT writes NULL as TEXT instead, for
readers that ignore quotes (pandas: --csv-null '\N', then
read_csv(f, keep_default_na=False, na_values=[r"\N"])).
JSON numbers are exact, but JavaScript's JSON.parse and jq 1.6 round integers above 2^53:
--json-bigint-as-string writes BIGINT, UBIGINT and HUGEINT values (ids, counts) as strings.

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
   adharvest sql --out eea-2024-01 --print-views --relative --output eea-2024-01/views.sql
                                             # then: cd eea-2024-01 && duckdb -init views.sql
   adharvest sql --out eea-2024-01 "SELECT count(*) FROM ads WHERE list_contains(search_terms, 'coffee')"
   adharvest sql --out eea-2024-01 --format json --json-bigint-as-string "SELECT ad_id, business_id FROM ads"
   adharvest sql --out eea-2024-01                              # prompt: .tables, .schema ads, .help, .quit`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest (needed by all but --list)"},
			&cli.StringFlag{Name: "format", Usage: "`FORMAT`: table, csv, json or parquet (parquet needs --output)", Value: "table"},
			&cli.StringFlag{Name: "output", Usage: "write the result to `FILE` instead of standard output"},
			&cli.StringFlag{Name: "query", Usage: "run the canned analysis `NAME` (see --list)"},
			&cli.BoolFlag{Name: "list", Usage: "list the canned analyses, with what each shows"},
			&cli.BoolFlag{Name: "print-views", Usage: "print the view definitions as SQL that any DuckDB client can run"},
			&cli.BoolFlag{Name: "relative", Usage: "with --print-views, write paths relative to DIR, so that the script still works when DIR is moved or sent: run DuckDB from inside DIR"},
			&cli.BoolFlag{Name: "csv-raw", Usage: "with --format csv, write text cells as they are, even those a spreadsheet would run as a formula (= + - @)"},
			&cli.StringFlag{Name: "csv-null", Usage: "with --format csv, write NULL as `TEXT` (e.g. \\N) instead of an empty field (empty text is always \"\")"},
			&cli.BoolFlag{Name: "json-bigint-as-string", Usage: "with --format json, write BIGINT, UBIGINT and HUGEINT values (ids, counts) as strings, for readers that round numbers above 2^53 (JavaScript, jq 1.6)"},
		},
		Action: func(c *cli.Context) error {
			cmd := &SQLCommand{
				Out: c.String("out"), Format: c.String("format"), FormatSet: c.IsSet("format"), Output: c.String("output"),
				Query: c.String("query"), List: c.Bool("list"), PrintViews: c.Bool("print-views"), Relative: c.Bool("relative"),
				CSVRaw: c.Bool("csv-raw"), CSVNull: c.String("csv-null"), JSONBigIntAsString: c.Bool("json-bigint-as-string"), Args: c.Args().Slice(),
				Program: program(c), Stdin: c.App.Reader, Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Interrupt: env.Interrupt,
			}
			return cmd.Run(c.Context)
		},
	}
}

// Run runs the query, the canned analysis, the listing or the prompt.
func (o *SQLCommand) Run(ctx context.Context) error {
	out, format, output, args, w := o.Out, o.Format, o.Output, o.Args, o.Stdout
	if format == "" {
		format = "table"
	}
	if o.List {
		if len(args) > 0 || o.Query != "" || o.PrintViews {
			return usagef("--list takes no query")
		}
		return writeAnalysisList(invokedWriter{w: w, prog: o.Program})
	}
	switch format {
	case "table", "csv", "json", "parquet":
	default:
		return usagef("--format %q is not table, csv, json or parquet", format)
	}
	if format == "parquet" && output == "" {
		return usagef("--format parquet needs --output FILE")
	}
	if o.CSVRaw && (format != "csv" || o.PrintViews) {
		return usagef("--csv-raw only changes the output of --format csv")
	}
	if o.CSVNull != "" && (format != "csv" || o.PrintViews) {
		return usagef("--csv-null only changes the output of --format csv")
	}
	if err := queries.CheckCSVNull(o.CSVNull); err != nil {
		return usagef("--csv-null: %v", err)
	}
	if o.JSONBigIntAsString && (format != "json" || o.PrintViews) {
		return usagef("--json-bigint-as-string only changes the output of --format json")
	}
	if o.Relative && !o.PrintViews {
		return usagef("--relative only changes the script of --print-views")
	}
	if output != "" {
		if err := checkOutputFile(output); err != nil {
			return err
		}
	}
	if out == "" {
		return usagef("give the harvest folder: adharvest sql --out DIR \"SELECT count(*) FROM ads\"")
	}
	if err := harvestFolder(out); err != nil {
		return err
	}

	if o.PrintViews {
		if len(args) > 0 || o.Query != "" {
			return usagef("--print-views takes no query")
		}
		if o.FormatSet {
			return usagef("--print-views prints SQL: leave out --format")
		}
		// An absolute path, so that the script runs from any folder; or
		// paths relative to the folder, so that it runs wherever the
		// folder goes.
		abs, err := filepath.Abs(out)
		if err != nil {
			return err
		}
		script, err := queries.ViewsWith(abs, queries.ViewsOptions{Relative: o.Relative})
		if err != nil {
			return err
		}
		return writeResult(w, output, func(w io.Writer) error {
			_, err := io.WriteString(w, script)
			return err
		})
	}

	var query string
	switch {
	case o.Query != "":
		if len(args) > 0 {
			return usagef("give either --query NAME or a query, not both")
		}
		a, ok := queries.LookupAnalysis(o.Query)
		if !ok {
			return usagef("--query %q is not a canned analysis (valid: %s)", o.Query, strings.Join(queries.AnalysisNames(), ", "))
		}
		query = a.SQL
	case len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(o.Stdin)
		if err != nil {
			return fmt.Errorf("read the query from standard input: %w", err)
		}
		query = string(b)
	case len(args) > 0:
		query = strings.Join(args, " ")
	case isTerminal(o.Stdin):
		if output != "" || format == "parquet" {
			return usagef("the interactive prompt writes to the terminal: give a query to use --output")
		}
		eng, err := queries.Open(ctx, out)
		if err != nil {
			return err
		}
		defer eng.Close()
		p := &sqlprompt.Prompt{Engine: eng, Out: w, Err: o.Stderr, Format: format, Options: o.writeOptions(), Interrupt: o.Interrupt}
		return p.RunTerminal(ctx)
	default:
		b, err := io.ReadAll(o.Stdin)
		if err != nil {
			return fmt.Errorf("read the query from standard input: %w", err)
		}
		query = string(b)
	}
	if len(queries.SplitStatements(query)) == 0 {
		return usagef("give a query, e.g. adharvest sql --out %s \"SELECT count(*) FROM ads\" (or --query NAME, or - to read it from standard input)", out)
	}

	eng, err := queries.Open(ctx, out)
	if err != nil {
		return err
	}
	defer eng.Close()
	if format == "parquet" {
		_, err := eng.WriteParquet(ctx, query, output)
		return queryError(ctx, err, query)
	}
	// Every statement that returns rows prints its result: a blank line
	// before each table or CSV block but the first; JSON arrays follow one
	// another, each on lines of its own.
	wopts := o.writeOptions()
	err = writeResult(w, output, func(w io.Writer) error {
		return eng.RunScript(ctx, query, func(n int, rows *sql.Rows) error {
			if n > 0 && format != "json" {
				if _, err := io.WriteString(w, "\n"); err != nil {
					return err
				}
			}
			return queries.WriteWith(w, format, rows, wopts)
		})
	})
	return queryError(ctx, err, query)
}

func (o *SQLCommand) writeOptions() queries.WriteOptions {
	return queries.WriteOptions{RawCSV: o.CSVRaw, CSVNull: o.CSVNull, JSONBigIntAsString: o.JSONBigIntAsString}
}

// harvestFolder is a usage error unless dir holds a harvest (see
// queries.CheckFolder): a command pointed at the wrong folder says so in one
// line rather than answering with empty tables.
func harvestFolder(dir string) error {
	if err := queries.CheckFolder(dir); err != nil {
		return &UsageError{Msg: "--out " + err.Error()}
	}
	return nil
}

// queryError is what a failed query reports: "interrupted" after Ctrl-C, and
// otherwise DuckDB's complaint about the query (a usage error) or the error.
func queryError(ctx context.Context, err error, query string) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	return queries.Explain(err, query)
}

// writeResult writes through write to w, or atomically to the file output
// (and removes what an earlier, killed write of output left).
func writeResult(w io.Writer, output string, write func(io.Writer) error) error {
	if output == "" {
		return write(w)
	}
	return queries.WriteFileAtomic(output, write)
}

// checkOutputFile is a usage error unless output can be written: its folder
// exists and it is not a folder itself.
func checkOutputFile(output string) error {
	if fi, err := os.Stat(output); err == nil && fi.IsDir() {
		return usagef("--output %s is a folder", output)
	}
	if fi, err := os.Stat(filepath.Dir(output)); err != nil || !fi.IsDir() {
		return usagef("--output %s: folder %s does not exist", output, filepath.Dir(output))
	}
	return nil
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
