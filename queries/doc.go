// Package queries makes an adharvest output folder queryable with SQL through an
// in-memory DuckDB, and prints query results as an aligned table, CSV or JSON.
//
// # Views are embedded .sql files
//
// Every table in sink.Tables has one file views/<table>.sql, embedded into the
// binary with go:embed. Keeping the definitions as plain SQL rather than as Go
// strings means they can be read and reviewed as SQL, and the very same text
// serves two consumers:
//
//   - Open runs them inside adharvest's own DuckDB (adharvest sql);
//   - Views prints them as one script that any DuckDB client (the duckdb CLI,
//     Python in a Jupyter notebook, R) can run to get identical views.
//
// A file refers to its data only through template placeholders, never through a
// path, so it does not depend on where the output folder is:
//
//	{{source "ads"}}  the table's files: a read_parquet(...) over
//	                  DIR/ads/country_code=*/*.parquet with union_by_name=true
//	                  (so files written by older schema versions, with fewer
//	                  columns, still read, their missing columns as NULL),
//	                  wrapped in a subquery that adds the partition column;
//	{{key "ads"}}     the table's key columns (sink.Table.Key), quoted and
//	                  comma-separated.
//
// Partition columns are not stored in the files (Spark forbids it). The views
// recover them from the name of the folder each file is in, always as VARCHAR
// (so the country "NO" is never cast to a boolean), and not with DuckDB's
// hive_partitioning, which reads every key=value segment of the whole path: an
// output folder inside "country_code=ZZ/" would make every ad ZZ. DuckDB still
// checks a filter on the partition column against the file names before it
// opens any file. The output folder's own name is escaped in the pattern
// (folder.DuckDBGlob), so that a folder called "run[1]" or "a*b" reads its own
// files and no sibling's. The temporary files that sink writes (".tmp-…",
// never ending in ".parquet") are not matched by the pattern.
//
// Adding a table is a matter of adding it to sink.Tables and adding one .sql
// file here; the tests fail until both exist.
//
// # Two views per table, and the dedup rule
//
// A crawl re-fetches the same logical row many times: overlapping search terms
// and windows, resumed runs, re-harvests. Each file therefore only ever grows
// the history, and the views decide what a row is:
//
//   - <table>_all has every fetched row from every committed file, with its
//     provenance (search_term, search_type, window_start, window_end,
//     fetched_at, run_id, shard_id);
//   - <table> has one row per key (for ads: ad_id and country_code), the one
//     with the newest fetched_at. Ties are broken by run_id, then shard_id,
//     both descending, so that the choice is the same on every run and in every
//     client.
//
// # Tables without data
//
// DuckDB cannot create a view over a glob that matches no file, and a view
// whose columns depend on what happens to be on disk would break saved queries.
// When a table has no committed file yet, its views read a typed empty SELECT
// instead, with exactly the columns and types real data would give: Open
// writes a 0-row file with the table's Parquet schema (sink.Table.WriteEmpty)
// into a private folder of the system temporary directory, asks DuckDB to
// DESCRIBE it, and removes the folder before it returns, so that an engine
// killed while open leaves nothing behind. Views prints the same SELECT.
//
// A view is bound to files or to the empty placeholder when Open runs: a table
// that receives its first file while an Engine is open stays empty until the
// next Open (tables that already had files see new files on every query).
//
// # Leftovers of killed processes
//
// A process killed with SIGKILL cleans nothing up. Every temporary file and
// folder this package creates (the database an export builds, the folder its
// CSV files are written to, the placeholder folder) is named after its
// process and host, and the next run that writes the same target removes
// those whose process is gone, and only those (see leftovers.go). The CSV
// files of an export are written into a temporary folder and published as a
// set, so that a partial set never has the final names.
//
// # Output
//
// Write streams *sql.Rows as an aligned table, CSV or JSON. It knows the Go
// types that duckdb-go returns and uses each column's DuckDB type name to pick
// the rendering (a DATE and a TIMESTAMP are both time.Time in Go). BIGINT ids
// above 2^53 are written exactly in every format. CSV is written for
// spreadsheets: text cells that a spreadsheet would run as a formula get a
// leading single quote, unless WriteOptions.RawCSV.
package queries
