package commands

import (
	"context"
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
	// CSVRaw writes CSV cells as they are, without the single quote that
	// keeps spreadsheets from running text as a formula.
	CSVRaw bool
	Args   []string // the query, or "-" for standard input
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Interrupt is passed to the prompt (see Env.Interrupt).
	Interrupt func(f func())
}

func sqlCommand(env Env) *cli.Command {
	return &cli.Command{
		Name:  "sql",
		Usage: "run SQL over a harvest folder with embedded DuckDB",
		UsageText: `adharvest sql --out DIR [--format table|csv|json|parquet] [--csv-raw] [--output FILE] "SELECT ..." | -
adharvest sql --out DIR --query NAME [--format ...] [--output FILE]
adharvest sql --list
adharvest sql --out DIR --print-views [--output FILE]
adharvest sql --out DIR          (a prompt on a terminal; otherwise the query is read from standard input)

Every table is a view: ads (one row per ad_id and country_code, the newest fetch) and
ads_all (every fetch). An error shows DuckDB's message with the line and column at fault.
--output writes the file atomically (a temporary name, then a rename). A query that starts
with "--" (a comment) goes after a "--" argument, or on standard input.
CSV is for spreadsheets: a text cell that starts with = + - @ or a tab or carriage return
(an advertiser called "=HYPERLINK(...)") gets a leading ' so that it is shown, not run;
numbers are never changed. --csv-raw writes every cell exactly as it is.

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
			&cli.BoolFlag{Name: "csv-raw", Usage: "with --format csv, write text cells as they are, even those a spreadsheet would run as a formula (= + - @)"},
		},
		Action: func(c *cli.Context) error {
			cmd := &SQLCommand{
				Out: c.String("out"), Format: c.String("format"), FormatSet: c.IsSet("format"), Output: c.String("output"),
				Query: c.String("query"), List: c.Bool("list"), PrintViews: c.Bool("print-views"), CSVRaw: c.Bool("csv-raw"), Args: c.Args().Slice(),
				Stdin: c.App.Reader, Stdout: c.App.Writer, Stderr: c.App.ErrWriter, Interrupt: env.Interrupt,
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
		return writeAnalysisList(w)
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
	if output != "" {
		if err := checkOutputFile(output); err != nil {
			return err
		}
	}
	if out == "" {
		return usagef("give the harvest folder: adharvest sql --out DIR \"SELECT count(*) FROM ads\"")
	}
	if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
		return usagef("--out %s is not a harvest folder", out)
	}

	if o.PrintViews {
		if len(args) > 0 || o.Query != "" {
			return usagef("--print-views takes no query")
		}
		if o.FormatSet {
			return usagef("--print-views prints SQL: leave out --format")
		}
		// An absolute path, so that the script runs from any folder.
		abs, err := filepath.Abs(out)
		if err != nil {
			return err
		}
		script, err := queries.Views(abs)
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
		if o.CSVRaw {
			return usagef("the interactive prompt does not take --csv-raw: give a query to write raw CSV")
		}
		eng, err := queries.Open(ctx, out)
		if err != nil {
			return err
		}
		defer eng.Close()
		p := &sqlprompt.Prompt{Engine: eng, Out: w, Err: o.Stderr, Format: format, Interrupt: o.Interrupt}
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
	rows, err := eng.Query(ctx, query)
	if err != nil {
		return queryError(ctx, err, query)
	}
	defer rows.Close()
	wopts := queries.WriteOptions{RawCSV: o.CSVRaw}
	err = writeResult(w, output, func(w io.Writer) error { return queries.WriteWith(w, format, rows, wopts) })
	return queryError(ctx, err, query)
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
