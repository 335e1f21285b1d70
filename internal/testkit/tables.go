package testkit

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"adharvest/queries"
	"adharvest/sink"
)

// NULL is how TextRows renders SQL NULL.
const NULL = "NULL"

// Open opens the DuckDB views of the harvest folder dir for the rest of the test.
func Open(t testing.TB, dir string) *sql.DB {
	t.Helper()
	eng, err := queries.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return eng.DB()
}

// Int runs a query that returns one integer.
func Int(t testing.TB, db *sql.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// JSON is the canonical JSON of v. TextRows re-encodes its JSON columns with
// it, so that an expectation built with JSON compares as equal text.
func JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// TextRows runs query (every column already text) and returns each row as
// column -> text, NULL for SQL NULL. jsonCols hold JSON and are re-encoded
// with JSON (numbers kept exact).
func TextRows(t testing.TB, db *sql.DB, query string, jsonCols ...string) []map[string]string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		m := make(map[string]string, len(cols))
		for i, c := range cols {
			if !vals[i].Valid {
				m[c] = NULL
				continue
			}
			m[c] = vals[i].String
			if slices.Contains(jsonCols, c) {
				dec := json.NewDecoder(strings.NewReader(vals[i].String))
				dec.UseNumber()
				var v any
				if err := dec.Decode(&v); err != nil {
					t.Fatalf("column %s holds %q, not JSON: %v", c, vals[i].String, err)
				}
				m[c] = JSON(v)
			}
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Set returns the values of query's text column k as a set.
func Set(t testing.TB, db *sql.DB, query string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range TextRows(t, db, query) {
		out[r["k"]] = true
	}
	return out
}

// DiffSets reports (as an error, the test goes on) every member of want
// missing from got and every one got has beyond it.
func DiffSets(t testing.TB, what string, want, got map[string]bool) {
	t.Helper()
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Errorf("%s differs from the API: %d missing (first %q), %d unexpected (first %q); want %d, got %d",
			what, len(missing), first(missing), len(extra), first(extra), len(want), len(got))
	}
}

func first(s []string) []string {
	if len(s) > 3 {
		return s[:3]
	}
	return s
}

// Rows renders every fetched row of table (its _all view), minus the
// columns that differ between runs by design (when and by which run it was
// fetched), in a stable order.
func Rows(t testing.TB, dir, table string) []string {
	t.Helper()
	return rowsExcluding(t, dir, table, "fetched_at", "run_id")
}

func rowsExcluding(t testing.TB, dir, table string, exclude ...string) []string {
	t.Helper()
	eng, err := queries.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	sel := "*"
	if len(exclude) > 0 {
		sel = fmt.Sprintf("* EXCLUDE (%s)", strings.Join(exclude, ", "))
	}
	rows, err := eng.DB().Query(fmt.Sprintf(`SELECT %s FROM %s_all ORDER BY ALL`, sel, table))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(vals...))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// SameTables requires each table (every table when none is named) of dir to
// hold exactly the Rows of ref, and ref to hold some, so that the comparison
// means something; only rejects may be empty (a clean harvest has none).
func SameTables(t testing.TB, ref, dir string, tables ...string) {
	t.Helper()
	sameTables(t, ref, dir, []string{"fetched_at", "run_id"}, tables...)
}

// SameItems is SameTables without the columns that say which slice found a
// row (window_start, window_end, shard_id): for harvests whose slices
// differ by design, such as a slice narrowed when its search_id died, whose
// items must still be the same, each once.
func SameItems(t testing.TB, ref, dir string, tables ...string) {
	t.Helper()
	sameTables(t, ref, dir, []string{"fetched_at", "run_id", "window_start", "window_end", "shard_id"}, tables...)
}

// SameTablesExactly is SameTables with every column compared, fetched_at
// and run_id included: for folders that must be identical, such as a
// harvest and its reparse.
func SameTablesExactly(t testing.TB, ref, dir string, tables ...string) {
	t.Helper()
	sameTables(t, ref, dir, nil, tables...)
}

// SameItemsExcept is SameItems without the columns named in also: for
// folders fetched at other times, where a column that changes with time
// (an active ad's last_shown_date) differs by design and is checked apart.
func SameItemsExcept(t testing.TB, ref, dir string, also []string, tables ...string) {
	t.Helper()
	sameTables(t, ref, dir, append([]string{"fetched_at", "run_id", "window_start", "window_end", "shard_id"}, also...), tables...)
}

func sameTables(t testing.TB, ref, dir string, exclude []string, tables ...string) {
	t.Helper()
	if len(tables) == 0 {
		for _, tb := range sink.Tables {
			// The coverage table says how a run went (pages, requests),
			// which faults change; its data is the other tables'.
			if !tb.Derived {
				tables = append(tables, tb.Name)
			}
		}
	}
	for _, table := range tables {
		want, got := rowsExcluding(t, ref, table, exclude...), rowsExcluding(t, dir, table, exclude...)
		if len(want) == 0 && table != sink.Rejects.Name {
			t.Fatalf("%s: the reference is empty, so the comparison means nothing", table)
		}
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			first := ""
			for i := range min(len(want), len(got)) {
				if want[i] != got[i] {
					first = fmt.Sprintf("; first difference at row %d:\n got %s\nwant %s", i, got[i], want[i])
					break
				}
			}
			t.Fatalf("%s differs from the reference: %d rows, want %d%s", table, len(got), len(want), first)
		}
	}
}

// NoTempFiles reports every temporary file (sink.TempPrefix) under dir.
func NoTempFiles(t testing.TB, dir string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasPrefix(d.Name(), sink.TempPrefix) {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}
