package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"adharvest/folder"
	"adharvest/queries"

	"github.com/urfave/cli/v2"
)

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "write a harvest folder as one self-contained DuckDB database (and CSV files)",
		UsageText: `adharvest export --out DIR --duckdb FILE [--csv FOLDER [--csv-raw] [--csv-null TEXT]] [--force]

Every view becomes a real table of the same name (ads: one row per key, the newest
fetch) and every _all view a table <table>_all (every fetch), field_completeness a
table too, plus harvest_manifest
(one row: tool, version, job as JSON text, job_hash, created, complete, per-dataset
counts as JSON text, the whole manifest.json), harvest_runs (one row per run) and
harvest_datasets (one row per dataset). The file is built under a temporary name and
renamed into place when complete; an existing FILE is kept unless --force.
--csv FOLDER also writes one CSV file per table, with a header row, into a temporary
folder put in place when all are written: FOLDER never holds part of a set. The CSV is
for spreadsheets: a text cell that starts with = + - @ or a tab or carriage return (an
advertiser called "=HYPERLINK(...)") gets a leading ' so that it is shown, not run;
numbers are never changed, nor is the database. --csv-raw writes every cell as it is.
In the CSV files NULL is an empty field and empty text "" (quoted); --csv-null TEXT
writes NULL as TEXT (e.g. \N) for readers that ignore quotes, such as pandas.
DIR must hold a harvest (a checkpoint, a manifest or table files): another folder is
refused.
An export that is killed leaves nothing under the final names, and the next export
removes its temporary files.

Examples:
   adharvest export --out eea-2024-01 --duckdb eea-2024-01.duckdb
   duckdb eea-2024-01.duckdb "SELECT country_code, count(*) FROM ads GROUP BY 1"
   adharvest export --out eea-2024-01 --duckdb eea.duckdb --csv eea-csv --force
   adharvest export --out eea-2024-01 --csv eea-csv           # CSV files only`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "output `DIR` of a harvest (required)"},
			&cli.StringFlag{Name: "duckdb", Usage: "the DuckDB database `FILE` to create"},
			&cli.StringFlag{Name: "csv", Usage: "also write one CSV file per table into `FOLDER`"},
			&cli.BoolFlag{Name: "force", Usage: "replace an existing database file and CSV files"},
			&cli.BoolFlag{Name: "csv-raw", Usage: "write CSV text cells as they are, even those a spreadsheet would run as a formula (= + - @)"},
			&cli.StringFlag{Name: "csv-null", Usage: "write NULL in the CSV files as `TEXT` (e.g. \\N) instead of an empty field (empty text is always \"\")"},
		},
		Action: func(c *cli.Context) error {
			if err := noArgs(c); err != nil {
				return err
			}
			cmd := &ExportCommand{Out: c.String("out"), DuckDB: c.String("duckdb"), CSV: c.String("csv"), Force: c.Bool("force"), CSVRaw: c.Bool("csv-raw"), CSVNull: c.String("csv-null"), Stdout: c.App.Writer, Stderr: c.App.ErrWriter}
			return cmd.Run(c.Context)
		},
	}
}

// ExportCommand writes a harvest folder as one DuckDB database and/or CSV files.
type ExportCommand struct {
	Out, DuckDB, CSV string
	Force            bool
	// CSVRaw writes CSV cells as they are (see queries.WriteOptions.RawCSV).
	CSVRaw bool
	// CSVNull is the CSV cell of NULL (see queries.WriteOptions.CSVNull).
	CSVNull        string
	Stdout, Stderr io.Writer
}

// Run exports.
func (o *ExportCommand) Run(ctx context.Context) error {
	out, dbFile, csvDir, force := o.Out, o.DuckDB, o.CSV, o.Force
	if out == "" {
		return usagef("--out is required: the folder of a harvest, e.g. adharvest export --out eea-2024-01 --duckdb eea.duckdb")
	}
	if err := harvestFolder(out); err != nil {
		return err
	}
	if dbFile == "" && csvDir == "" {
		return usagef("give --duckdb FILE (and/or --csv FOLDER) to say where to export %s", out)
	}
	if o.CSVRaw && csvDir == "" {
		return usagef("--csv-raw only changes the CSV files: add --csv FOLDER")
	}
	if o.CSVNull != "" && csvDir == "" {
		return usagef("--csv-null only changes the CSV files: add --csv FOLDER")
	}
	if err := queries.CheckCSVNull(o.CSVNull); err != nil {
		return usagef("--csv-null: %v", err)
	}
	if dbFile != "" {
		fi, err := os.Stat(dbFile)
		switch {
		case err == nil && fi.IsDir():
			return usagef("--duckdb %s is a folder", dbFile)
		case err == nil && !force:
			return usagef("--duckdb %s already exists; add --force to replace it", dbFile)
		}
		if fi, err := os.Stat(filepath.Dir(dbFile)); err != nil || !fi.IsDir() {
			return usagef("--duckdb %s: folder %s does not exist", dbFile, filepath.Dir(dbFile))
		}
	}
	if csvDir != "" {
		if fi, err := os.Stat(csvDir); err == nil && !fi.IsDir() {
			return usagef("--csv %s is a file, not a folder", csvDir)
		}
		// Export's own rule, so that a set a killed export left partial is
		// replaced without --force.
		if err := queries.CheckExportTargets(queries.ExportOptions{CSVDir: csvDir, Force: force}); errors.Is(err, fs.ErrExist) {
			return usagef("--csv %s already holds an export's CSV files; add --force to replace them", csvDir)
		} else if err != nil {
			return err
		}
	}

	eng, err := queries.Open(ctx, out)
	if err != nil {
		return err
	}
	defer eng.Close()
	res, err := eng.Export(ctx, queries.ExportOptions{DuckDB: dbFile, CSVDir: csvDir, Force: force, RawCSV: o.CSVRaw, CSVNull: o.CSVNull})
	if errors.Is(err, fs.ErrExist) {
		// Appeared while the export ran.
		return &UsageError{Msg: err.Error()}
	}
	if err != nil {
		return err
	}
	if res.NoManifest {
		fmt.Fprintf(o.Stderr, "adharvest: %s has no %s: the harvest_* tables are empty\n", out, filepath.Base(folder.New(out).Manifest()))
	}

	w := o.Stdout
	switch {
	case dbFile != "" && csvDir != "":
		fmt.Fprintf(w, "exported %s to %s and %s/ (%d tables):\n", out, dbFile, csvDir, len(res.Tables))
	case dbFile != "":
		fmt.Fprintf(w, "exported %s to %s (%d tables):\n", out, dbFile, len(res.Tables))
	default:
		fmt.Fprintf(w, "exported %s to %s/ (%d CSV files):\n", out, csvDir, len(res.Tables))
	}
	width := 0
	for _, t := range res.Tables {
		width = max(width, len(t.Name))
	}
	for _, t := range res.Tables {
		unit := "rows"
		if t.Rows == 1 {
			unit = "row"
		}
		fmt.Fprintf(w, "  %-*s %9d %s\n", width, t.Name, t.Rows, unit)
	}
	if dbFile != "" {
		fmt.Fprintf(w, "open it with any DuckDB client, e.g. duckdb %s \"SELECT count(*) FROM ads\"\n", dbFile)
	}
	return nil
}
