package queries

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/folder"
	"adharvest/sink"
)

const bigID = 7057157514558702338 // above 2^53: a float64 would round it

func day(s string) *int32 {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return sink.Day(d)
}

func ptr[T any](v T) *T { return &v }

// prov is the provenance of one fetch. The DATE columns are left NULL here:
// TestParquetDates covers them.
func prov(fetched string, run, shard string) sink.Provenance {
	at, err := time.Parse(time.RFC3339, fetched)
	if err != nil {
		panic(err)
	}
	return sink.Provenance{
		SearchTerm: "shoes",
		SearchType: "keyword",
		FetchedAt:  at,
		RunID:      run,
		ShardID:    shard,
	}
}

// writeAds writes rows as DIR/ads/country_code=<country>/<file>.
func writeAds(t *testing.T, dir, country, file string, rows ...sink.AdRow) {
	t.Helper()
	path := filepath.Join(folder.New(dir).PartitionDir(sink.Ads, country), file)
	if err := sink.WriteParquet(path, rows); err != nil {
		t.Fatal(err)
	}
}

// tricky is a string that needs quoting in CSV and escaping in JSON.
const tricky = "Café \"Le Coin\", Paris\nligne 2 ✓ 日本語 😀"

// writeDataset lays out a small output folder:
//
//	ads/country_code=FR/part-1.parquet   run-1: bigID (active), 2 (sparse)
//	ads/country_code=FR/part-2.parquet   run-2, a day later: bigID (removed)
//	ads/country_code=NO/part-1.parquet   run-1: bigID (active)
//	ads/country_code=FR/.tmp-part-3.parquet-123   garbage, must be ignored
func writeDataset(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	run1 := prov("2024-06-01T10:00:00Z", "run-1", "shard-0")
	run2 := prov("2024-06-02T08:30:00.123456Z", "run-2", "shard-3")
	writeAds(t, dir, "FR", "part-1.parquet",
		sink.AdRow{AdFields: sink.AdFields{
			AdID:         bigID,
			Status:       ptr("active"),
			VideoURLs:    []string{"https://v.example/1.mp4", "https://v.example/2.mp4"},
			ImageURLs:    []string{},
			ReachText:    ptr("10K-50K"),
			ReachLower:   ptr(int64(10_000)),
			ReachUpper:   ptr(int64(50_000)),
			BusinessID:   ptr(int64(7_000_000_000_000_000_001)),
			BusinessName: ptr("Acme"),
			PaidForBy:    ptr("Acme SAS"),
		}, Provenance: run1},
		sink.AdRow{AdFields: sink.AdFields{AdID: 2}, Provenance: run1},
	)
	writeAds(t, dir, "FR", "part-2.parquet", sink.AdRow{AdFields: sink.AdFields{
		AdID:            bigID,
		Status:          ptr("removed"),
		StatusStatement: ptr(tricky),
		VideoURLs:       []string{"https://v.example/1.mp4"},
		ImageURLs:       []string{"https://i.example/a,b.jpg"},
		BusinessID:      ptr(int64(7_000_000_000_000_000_001)),
		BusinessName:    ptr(tricky),
	}, Provenance: run2})
	writeAds(t, dir, "NO", "part-1.parquet", sink.AdRow{AdFields: sink.AdFields{AdID: bigID, Status: ptr("active"), VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: run1})
	garbage := filepath.Join(folder.New(dir).PartitionDir(sink.Ads, "FR"), sink.TempPrefix+"part-3.parquet-123")
	if err := os.WriteFile(garbage, []byte("not parquet, half written"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func open(t *testing.T, dir string) *Engine {
	t.Helper()
	e, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// queryString runs query and returns its rows, cells separated by "|" and rows
// by newlines, each cell rendered as in a CSV file.
func queryString(t *testing.T, e *Engine, query string) string {
	t.Helper()
	rows, err := e.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for rows.Next() {
		vals := make([]any, len(types))
		ptrs := make([]any, len(types))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			cells[i] = text(v, parseType(types[i].DatabaseTypeName()))
		}
		lines = append(lines, strings.Join(cells, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

func TestDatasetQueries(t *testing.T) {
	e := open(t, writeDataset(t))
	tests := []struct {
		name, query, want string
	}{
		{"all keeps every fetch", "SELECT count(*) FROM ads_all", "4"},
		{"one row per key", "SELECT count(*) FROM ads", "3"},
		{"keys are unique", "SELECT count(*) FROM (SELECT DISTINCT ad_id, country_code FROM ads)", "3"},
		{"newest fetch wins", fmt.Sprintf("SELECT status || ' ' || run_id FROM ads WHERE ad_id = %d AND country_code = 'FR'", bigID), "removed run-2"},
		{"other countries are other keys", fmt.Sprintf("SELECT status FROM ads WHERE ad_id = %d AND country_code = 'NO'", bigID), "active"},
		{"history in _all", fmt.Sprintf("SELECT string_agg(status, ',' ORDER BY fetched_at) FROM ads_all WHERE ad_id = %d AND country_code = 'FR'", bigID), "active,removed"},
		{"NO is a VARCHAR", "SELECT DISTINCT typeof(country_code) FROM ads", "VARCHAR"},
		{"NO stays NO", "SELECT string_agg(DISTINCT country_code, ',' ORDER BY country_code) FROM ads_all", "FR,NO"},
		{"big ids exact", fmt.Sprintf("SELECT count(*) FROM ads WHERE ad_id = %d", bigID), "2"},
		{"fetched_at is TIMESTAMPTZ", "SELECT DISTINCT typeof(fetched_at) FROM ads", "TIMESTAMP WITH TIME ZONE"},
		{"session time zone is UTC", "SELECT max(fetched_at)::VARCHAR FROM ads_all", "2024-06-02 08:30:00.123456+00"},
		{"lists", fmt.Sprintf("SELECT len(video_urls) FROM ads_all WHERE ad_id = %d AND run_id = 'run-1' AND country_code = 'FR'", bigID), "2"},
		{"temp files ignored", "SELECT count(DISTINCT filename) FROM read_parquet('" + e.Dir() + "/ads/*/*.parquet', filename = true)", "3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := queryString(t, e, tc.query); got != tc.want {
				t.Errorf("%s\ngot  %q\nwant %q", tc.query, got, tc.want)
			}
		})
	}
}

// TestParquetDates checks that the DATE columns written by sink.WriteParquet
// read back as the dates that were written.
func TestParquetDates(t *testing.T) {
	dir := t.TempDir()
	p := prov("2024-06-01T10:00:00Z", "run-1", "shard-0")
	p.WindowStart, p.WindowEnd = day("2024-05-01"), day("2024-05-31")
	writeAds(t, dir, "FR", "x.parquet", sink.AdRow{AdFields: sink.AdFields{AdID: 1, FirstShownDate: day("2024-05-03"), LastShownDate: day("2024-05-20")}, Provenance: p})
	e := open(t, dir)
	got := queryString(t, e, "SELECT first_shown_date, last_shown_date, window_start, window_end FROM ads")
	if want := "2024-05-03|2024-05-20|2024-05-01|2024-05-31"; got != want {
		t.Errorf("DATE columns read back as %s, want %s", got, want)
	}
}

// oldAdRow is an ads row as an older version might have written it: fewer
// columns.
type oldAdRow struct {
	AdID   int64   `parquet:"ad_id"`
	Status *string `parquet:"status,optional"`
	sink.Provenance
}

func TestOlderSchemaFiles(t *testing.T) {
	dir := writeDataset(t)
	old := filepath.Join(folder.New(dir).PartitionDir(sink.Ads, "DE"), "old.parquet")
	if err := sink.WriteParquet(old, []oldAdRow{{AdID: 9, Status: ptr("active"), Provenance: prov("2023-01-01T00:00:00Z", "run-0", "shard-0")}}); err != nil {
		t.Fatal(err)
	}
	e := open(t, dir)
	tests := []struct{ query, want string }{
		{"SELECT count(*) FROM ads_all", "5"},
		{"SELECT paid_for_by IS NULL AND video_urls IS NULL FROM ads WHERE ad_id = 9", "true"},
		{"SELECT status, country_code, run_id FROM ads WHERE ad_id = 9", "active|DE|run-0"},
		// The partition column, then search_terms, shard_ids and first_seen_at.
		{"SELECT count(*) FROM (DESCRIBE ads)", fmt.Sprint(len(sink.Ads.Schema.Fields()) + 4)},
	}
	for _, tc := range tests {
		if got := queryString(t, e, tc.query); got != tc.want {
			t.Errorf("%s\ngot  %q\nwant %q", tc.query, got, tc.want)
		}
	}
}

func TestDedupTieBreak(t *testing.T) {
	type fetch struct {
		status, fetched, run, shard string
	}
	tests := []struct {
		name    string
		fetches []fetch
		want    string
	}{
		{"newest fetched_at", []fetch{
			{"old", "2024-06-01T00:00:00Z", "run-9", "shard-9"},
			{"new", "2024-06-01T00:00:01Z", "run-1", "shard-1"},
		}, "new"},
		{"same time: greatest run_id", []fetch{
			{"a", "2024-06-01T00:00:00Z", "run-a", "shard-9"},
			{"b", "2024-06-01T00:00:00Z", "run-b", "shard-1"},
		}, "b"},
		{"same time and run: greatest shard_id", []fetch{
			{"s2", "2024-06-01T00:00:00Z", "run-a", "shard-2"},
			{"s1", "2024-06-01T00:00:00Z", "run-a", "shard-1"},
		}, "s2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for i, f := range tc.fetches {
				writeAds(t, dir, "DE", fmt.Sprintf("part-%d.parquet", i), sink.AdRow{AdFields: sink.AdFields{AdID: 1, Status: ptr(f.status)}, Provenance: prov(f.fetched, f.run, f.shard)})
			}
			e := open(t, dir)
			if got := queryString(t, e, "SELECT status FROM ads"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if got, want := queryString(t, e, "SELECT count(*) FROM ads_all"), fmt.Sprint(len(tc.fetches)); got != want {
				t.Errorf("ads_all has %s rows, want %s", got, want)
			}
		})
	}
}

// describe returns "name type" lines for a relation.
func describe(t *testing.T, db *sql.DB, relation string) string {
	t.Helper()
	rows, err := db.Query("SELECT column_name || ' ' || column_type FROM (DESCRIBE " + relation + ")")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

func TestEmptyTables(t *testing.T) {
	full := open(t, writeDataset(t))

	layouts := map[string]func(t *testing.T, dir string){
		"empty folder": func(t *testing.T, dir string) {},
		"table folder with only a temp file": func(t *testing.T, dir string) {
			p := filepath.Join(folder.New(dir).PartitionDir(sink.Ads, "FR"), sink.TempPrefix+"x.parquet-123")
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, layout := range layouts {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			layout(t, dir)
			// The placeholder files exist only while Open runs: a process
			// killed while the engine is open leaves nothing behind.
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			e, err := Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("placeholder folder %s left in %s while the engine is open", ents[0].Name(), tmp)
			}
			for _, view := range []string{"ads", "ads_all"} {
				if got, want := describe(t, e.DB(), view), describe(t, full.DB(), view); got != want {
					t.Errorf("DESCRIBE %s of an empty table:\n%s\nwant (real files):\n%s", view, got, want)
				}
				if got := queryString(t, e, "SELECT count(*) FROM "+view); got != "0" {
					t.Errorf("%s has %s rows, want 0", view, got)
				}
			}

			// The script for other clients has the same schema, without any file.
			script, err := Views(dir)
			if err != nil {
				t.Fatal(err)
			}
			db := freshDB(t, script)
			for _, view := range []string{"ads", "ads_all"} {
				if got, want := describe(t, db, view), describe(t, full.DB(), view); got != want {
					t.Errorf("DESCRIBE %s from Views():\n%s\nwant:\n%s", view, got, want)
				}
			}

			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
				t.Errorf("placeholder folder %s left in %s after Close", ents[0].Name(), tmp)
			}
		})
	}
}

// freshDB runs script in a new in-memory DuckDB, as a notebook would.
func freshDB(t *testing.T, script string) *sql.DB {
	t.Helper()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(script); err != nil {
		t.Fatalf("%v\n%s", err, script)
	}
	return db
}

func TestViewsScript(t *testing.T) {
	dir := writeDataset(t)
	script, err := Views(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"CREATE OR REPLACE VIEW ads_all AS",
		"CREATE OR REPLACE VIEW ads AS",
		"read_parquet('" + filepath.Join(dir, "ads", "country_code=*", "*.parquet") + "'",
		// The partition column comes from the table's own folders, not
		// from Hive partitioning over the whole path.
		"hive_partitioning = false",
		`AS "country_code" FROM read_parquet(`,
		"union_by_name = true",
		`PARTITION BY "ad_id", "country_code"`,
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, "{{") {
		t.Errorf("unexpanded placeholder:\n%s", script)
	}
	db := freshDB(t, script)
	var all, latest int
	if err := db.QueryRow("SELECT (SELECT count(*) FROM ads_all), (SELECT count(*) FROM ads)").Scan(&all, &latest); err != nil {
		t.Fatal(err)
	}
	if all != 4 || latest != 3 {
		t.Errorf("ads_all=%d ads=%d, want 4 and 3", all, latest)
	}
	e := open(t, dir)
	if got, want := describe(t, db, "ads"), describe(t, e.DB(), "ads"); got != want {
		t.Errorf("DESCRIBE differs:\n%s\nwant:\n%s", got, want)
	}
}

func TestEveryTableHasViews(t *testing.T) {
	e := open(t, t.TempDir())
	for _, table := range sink.Tables {
		for _, view := range []string{table.Name, table.Name + "_all"} {
			var n int
			if err := e.DB().QueryRow("SELECT count(*) FROM duckdb_views() WHERE view_name = ? AND NOT internal", view).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("views/%s.sql does not define view %s", table.Name, view)
			}
		}
	}
}

func TestOpenMissingDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	_, err := Open(context.Background(), dir)
	if err == nil {
		t.Fatal("no error")
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), dir+" does not exist") {
		t.Errorf("error %q should say that %s does not exist", err, dir)
	}
	if _, err := Views(dir); err == nil {
		t.Error("Views: no error")
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	if _, err := Open(context.Background(), file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open(file) = %v, want a 'not a directory' error", err)
	}
}

func TestQueryErrors(t *testing.T) {
	e := open(t, t.TempDir())
	tests := []struct {
		query string
		want  []string
	}{
		{"SELECT * FORM ads", []string{"query: Parser Error: syntax error at or near \"ads\"", "LINE 1: SELECT * FORM ads", "^"}},
		{"SELECT nope FROM ads", []string{"query: Binder Error: Referenced column \"nope\" not found", "LINE 1: SELECT nope FROM ads"}},
		{"SELECT * FROM nope", []string{"query: Catalog Error: Table with name nope does not exist"}},
	}
	for _, tc := range tests {
		t.Run(tc.query, func(t *testing.T) {
			_, err := e.Query(context.Background(), tc.query)
			if err == nil {
				t.Fatal("no error")
			}
			for _, want := range tc.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestQueryStatements(t *testing.T) {
	e := open(t, writeDataset(t))
	got := queryString(t, e, "CREATE TABLE fr AS SELECT * FROM ads WHERE country_code = 'FR'; SELECT count(*) FROM fr")
	if got != "2" {
		t.Errorf("got %q, want 2", got)
	}
	e.Close()
	if _, err := e.Query(context.Background(), "SELECT 1"); err == nil {
		t.Error("query on a closed engine: no error")
	}
}
