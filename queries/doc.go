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
// The provenance columns of a deduplicated row are those of its newest fetch:
// an ad found under the terms "coffee" and "tea" has the search_term of
// whichever was fetched last. So that counting by term does not undercount,
// ads adds two columns computed from ads_all over the same key:
// search_terms (VARCHAR[], every term the ad was found under in that
// country, the empty string for a query without a term) and shard_ids
// (VARCHAR[], every shard, that is query slice, it came from), both sorted
// and without repeats. "Ads found under coffee" is WHERE list_contains(search_terms,
// 'coffee'), and equals count(DISTINCT (ad_id, country_code)) of ads_all
// WHERE search_term = 'coffee'.
//
// # field_completeness
//
// One more view, field_completeness, says how often the service sent each
// field: one row per dataset ('ads', 'ad-details', 'commercial-content', as
// --datasets spells them), field and country_code, with rows (the rows of
// the deduplicated view), present (those where the field is not NULL, not
// blank text and not an empty list or map) and share (present / rows). It is
// not a file of views/: Open generates it from the columns of ads,
// ad_details and commercial_content as DESCRIBE gives them (see
// completenessSQL), leaving out keys and provenance, so that a column added
// to a table is measured with no change here. ad_details has no country: a
// detail counts under every country its ad was found in (NULL when in
// none). Views prints it after the tables' views, and Export writes it as a
// table.
//
// # Which folders hold a harvest
//
// Open accepts any folder, whose tables are then empty. A command that
// answers questions about a harvest calls CheckFolder first, which refuses a
// folder without a checkpoint (_adharvest/checkpoint.db), without a manifest
// written by adharvest and without any table file: the parent of a harvest,
// one of its table folders or an empty folder would otherwise answer every
// question with 0 rows. Its *FolderError names the harvest the folder is
// in, or those it holds, when there are any.
//
// # Scripts
//
// Query runs a script of several statements as DuckDB does and returns the
// rows of the last one. RunScript runs them one by one, on one connection
// (so that SET, temporary tables and macros carry over), and hands over
// the result of every statement that returns rows; statements that only
// prepare (SET, CREATE, INSERT without RETURNING…) show nothing, unless
// nothing else does. Errors keep the line numbers of the whole script.
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
// # Scripts for other clients
//
// Views (ViewsWith) prints the same definitions for any DuckDB client, with
// the absolute path of the folder by default. With ViewsOptions.Relative
// the paths are relative to the folder ("ads/country_code=*/*.parquet") and
// the script names no path at all: DuckDB resolves them when a view is
// queried, against its working directory (or its file_search_path), so the
// script works wherever the folder is moved or sent, from a DuckDB started
// inside the folder.
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
// above 2^53 are written exactly in every format; in JSON,
// WriteOptions.JSONBigIntAsString writes them (and every other integer of 64
// bits or more) as strings, for the many readers that round JSON numbers to
// doubles. CSV is written for spreadsheets: text cells that a spreadsheet
// would run as a formula get a leading single quote, unless
// WriteOptions.RawCSV. In CSV, NULL is an empty field and empty text a
// quoted "" (readers that look at quotes tell them apart), or NULL is
// WriteOptions.CSVNull (a marker such as \N, for readers that do not).
package queries
