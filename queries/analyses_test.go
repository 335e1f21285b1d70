package queries

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"adharvest/sink"
)

func TestAnalysesAreWellFormed(t *testing.T) {
	want := []string{"ads-per-country-week", "brands-by-creators", "rejection-reasons", "reported-vs-harvested", "targeting-shares", "top-advertisers"}
	got := AnalysisNames()
	for _, n := range want {
		a, ok := LookupAnalysis(n)
		if !ok {
			t.Fatalf("no analysis %q in %v", n, got)
		}
		if a.Description == "" || strings.Contains(a.Description, "\n") {
			t.Errorf("%s: description %q is not one line", n, a.Description)
		}
		if !strings.HasPrefix(a.SQL, "-- name: "+n+"\n") {
			t.Errorf("%s: SQL does not start with its header", n)
		}
		// Deterministic output needs an ORDER BY at the end.
		if strings.LastIndex(a.SQL, "ORDER BY") < strings.LastIndex(a.SQL, "FROM") {
			t.Errorf("%s: the final SELECT has no ORDER BY", n)
		}
	}
	if _, ok := LookupAnalysis("no-such-thing"); ok {
		t.Fatal("LookupAnalysis found a name that does not exist")
	}
	// Analyses returns a copy.
	list := Analyses()
	list[0].Name = "changed"
	if Analyses()[0].Name == "changed" {
		t.Fatal("Analyses shares its slice")
	}
}

func TestParseAnalysisHeader(t *testing.T) {
	good := "-- name: x-1\n-- description: One line.\n--\n-- more: text\nSELECT 1;\n"
	a, err := parseAnalysis(good)
	if err != nil || a.Name != "x-1" || a.Description != "One line." || a.SQL != good {
		t.Fatalf("%+v %v", a, err)
	}
	for _, tc := range []struct{ name, text, want string }{
		{"no name", "-- description: d\nSELECT 1", "name"},
		{"no description", "-- name: x\nSELECT 1", "description"},
		{"bad name", "-- name: Top Ads\n-- description: d\nSELECT 1", "lower-case"},
		{"two names", "-- name: x\n-- name: y\n-- description: d\nSELECT 1", "two name"},
		{"no query", "-- name: x\n-- description: d\n", "no query"},
		{"two statements", "-- name: x\n-- description: d\nSELECT 1; SELECT 2;", "2 statements"},
		{"header after the query", "SELECT 1\n-- name: x\n-- description: d\n", "name"},
	} {
		if _, err := parseAnalysis(tc.text); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %q", tc.name, err, tc.want)
		}
	}
	fsys := fstest.MapFS{"analyses/other.sql": {Data: []byte(good)}}
	if _, err := parseAnalyses(fsys); err == nil || !strings.Contains(err.Error(), "file name") {
		t.Fatalf("name differing from the file name: %v", err)
	}
}

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		in       string
		complete []string
		rest     string
	}{
		{"SELECT 1", nil, "SELECT 1"},
		{"SELECT 1;", []string{"SELECT 1"}, ""},
		{"SELECT 1; SELECT 2;\n", []string{"SELECT 1", "SELECT 2"}, ""},
		{"SELECT 1;\nSELECT\n  2", []string{"SELECT 1"}, "SELECT\n  2"},
		{"SELECT 'a;b'", nil, "SELECT 'a;b'"},
		{"SELECT 'it''s;'; x", []string{"SELECT 'it''s;'"}, "x"},
		{`SELECT "a;""b" FROM t;`, []string{`SELECT "a;""b" FROM t`}, ""},
		{"SELECT 1 -- no; not here\n;", []string{"SELECT 1 -- no; not here"}, ""},
		{"SELECT /* a; /* nested; */ still; */ 1;", []string{"SELECT /* a; /* nested; */ still; */ 1"}, ""},
		{"SELECT $$a;b$$, $t$c;$$;d$t$;", []string{"SELECT $$a;b$$, $t$c;$$;d$t$"}, ""},
		{`SELECT E'a\';b';`, []string{`SELECT E'a\';b'`}, ""},
		{"SELECT $1;", []string{"SELECT $1"}, ""},
		{";;  ;\n", nil, ""},
		{"-- only a comment\n", nil, ""},
		{"-- c\n/* d */ ;", nil, ""},
		{"-- c\nSELECT 1", nil, "-- c\nSELECT 1"},
		{"SELECT 'open;", nil, "SELECT 'open;"},
	} {
		complete, rest := SplitComplete(tc.in)
		if !reflect.DeepEqual(complete, tc.complete) || rest != tc.rest {
			t.Errorf("SplitComplete(%q) = %q, %q; want %q, %q", tc.in, complete, rest, tc.complete, tc.rest)
		}
		all := SplitStatements(tc.in)
		want := tc.complete
		if tc.rest != "" {
			want = append(append([]string(nil), want...), tc.rest)
		}
		if !reflect.DeepEqual(all, want) {
			t.Errorf("SplitStatements(%q) = %q, want %q", tc.in, all, want)
		}
	}
}

// TestAnalysesOnEmptyFolder runs every analysis where there is no data at
// all: the views are typed placeholders, and the results are empty.
func TestAnalysesOnEmptyFolder(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, a := range Analyses() {
		rows, err := e.Query(ctx, a.SQL)
		if err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("%s: %v", a.Name, err)
		}
		rows.Close()
		if n != 0 {
			t.Errorf("%s: %d rows on an empty folder", a.Name, n)
		}
		// The same text works inside COPY (Parquet output).
		out := filepath.Join(t.TempDir(), a.Name+".parquet")
		if got, err := e.WriteParquet(ctx, a.SQL, out); err != nil || got != 0 {
			t.Fatalf("%s as Parquet: %d rows, %v", a.Name, got, err)
		}
	}
}

func TestAnalysesOnSmallData(t *testing.T) {
	ctx := context.Background()
	dir := writeDataset(t)
	e, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	a, _ := LookupAnalysis("ads-per-country-week")
	rows, err := e.Query(ctx, a.SQL)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := Write(&b, "csv", rows); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "country_code,iso_week,week_start,ads,advertisers\n") || !strings.Contains(b.String(), "FR,") {
		t.Fatalf("ads-per-country-week on the small dataset:\n%s", b.String())
	}
}

func TestWriteParquet(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, writeDataset(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	out := filepath.Join(t.TempDir(), "ads.parquet")
	n, err := e.WriteParquet(ctx, "SELECT ad_id, country_code FROM ads ORDER BY ALL; -- trailing comment", out)
	if err != nil || n == 0 {
		t.Fatalf("%d rows, %v", n, err)
	}
	var back int64
	if err := e.DB().QueryRow("SELECT count(*) FROM read_parquet(" + quoteLiteral(out) + ")").Scan(&back); err != nil || back != n {
		t.Fatalf("read back %d rows, wrote %d: %v", back, n, err)
	}
	var codec string
	if err := e.DB().QueryRow("SELECT DISTINCT compression FROM parquet_metadata(" + quoteLiteral(out) + ")").Scan(&codec); err != nil || !strings.EqualFold(codec, "zstd") {
		t.Fatalf("compression %q %v", codec, err)
	}
	// A failing query leaves neither the file nor a temporary one.
	bad := filepath.Join(t.TempDir(), "bad.parquet")
	if _, err := e.WriteParquet(ctx, "SELECT * FROM nope", bad); err == nil || !strings.Contains(err.Error(), "LINE 1") {
		t.Fatalf("bad query: %v", err)
	}
	if _, err := e.WriteParquet(ctx, "SELECT 1; SELECT 2", bad); err == nil || !strings.Contains(err.Error(), "2 statements") {
		t.Fatalf("two statements: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(bad)); len(ents) != 0 {
		t.Fatalf("left behind: %v", ents)
	}
}

func TestExportEmptyFolder(t *testing.T) {
	ctx := context.Background()
	e, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	out := t.TempDir()
	file := filepath.Join(out, "x.duckdb")
	res, err := e.Export(ctx, ExportOptions{DuckDB: file, CSVDir: filepath.Join(out, "csv")})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NoManifest || len(res.Tables) != len(ExportTableNames()) {
		t.Fatalf("%+v", res)
	}
	for _, tb := range res.Tables {
		if tb.Rows != 0 {
			t.Errorf("%s: %d rows from an empty folder", tb.Name, tb.Rows)
		}
		b, err := os.ReadFile(filepath.Join(out, "csv", tb.Name+".csv"))
		if err != nil || strings.Count(string(b), "\n") != 1 {
			t.Errorf("%s.csv: want a header line only, got %q %v", tb.Name, b, err)
		}
	}
	db, err := sql.Open("duckdb", file+"?access_mode=read_only")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var typ string
	if err := db.QueryRow(`SELECT data_type FROM information_schema.columns WHERE table_name = 'ads' AND column_name = 'ad_id'`).Scan(&typ); err != nil || typ != "BIGINT" {
		t.Fatalf("ads.ad_id in the export: %q %v", typ, err)
	}
	entries, _ := os.ReadDir(out)
	for _, en := range entries {
		if strings.HasPrefix(en.Name(), sink.TempPrefix) || strings.HasSuffix(en.Name(), ".wal") {
			t.Errorf("left behind: %s", en.Name())
		}
	}

	// An existing file is refused without Force, and kept as it was.
	before, _ := os.Stat(file)
	if _, err := e.Export(ctx, ExportOptions{DuckDB: file}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("existing file: %v", err)
	}
	if _, err := e.Export(ctx, ExportOptions{CSVDir: filepath.Join(out, "csv")}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("existing CSV files: %v", err)
	}
	after, _ := os.Stat(file)
	if !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
		t.Fatal("refused export touched the file")
	}
	time.Sleep(10 * time.Millisecond)
	if _, err := e.Export(ctx, ExportOptions{DuckDB: file, Force: true}); err != nil {
		t.Fatalf("--force: %v", err)
	}
}

func TestWriteAtomicPathNeverClobbers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	write := func(content string) func(string) error {
		return func(tmp string) error { return os.WriteFile(tmp, []byte(content), 0o600) }
	}
	if err := writeAtomicPath(path, false, write("one")); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomicPath(path, false, write("two")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write without replace: %v", err)
	}
	if err := writeAtomicPath(path, true, write("three")); err != nil {
		t.Fatal(err)
	}
	if err := writeAtomicPath(path, true, func(string) error { return errors.New("boom") }); err == nil {
		t.Fatal("failure not reported")
	}
	b, _ := os.ReadFile(path)
	ents, _ := os.ReadDir(dir)
	if string(b) != "three" || len(ents) != 1 {
		t.Fatalf("content %q, %d files", b, len(ents))
	}
}
