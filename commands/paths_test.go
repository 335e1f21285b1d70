package commands_test

import (
	"database/sql"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/folder"
	"adharvest/sink"
)

// writeNamedHarvest lays out dir as a small harvest written by sink: ads 10
// and 11 in FR, 12 in DE, and one ad report asked for FR about DE.
func writeNamedHarvest(t *testing.T, dir string, ids ...int64) {
	t.Helper()
	p := sink.Provenance{SearchType: "keyword", FetchedAt: time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC), RunID: "run-1", ShardID: "s"}
	f := folder.New(dir)
	for i, id := range ids {
		country := "FR"
		if i == len(ids)-1 {
			country = "DE"
		}
		row := []sink.AdRow{{AdFields: sink.AdFields{AdID: id, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: p}}
		if err := sink.WriteParquet(f.Part(sink.Ads, country, "x", i), row); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.WriteParquet(f.Part(sink.AdReports, "FR", "r", 0), []sink.AdReportRow{{CountryCode: "DE", Count: 3, AdvertiserIDs: []int64{}, Provenance: p}}); err != nil {
		t.Fatal(err)
	}
}

// TestSQLOnHostileFolderNames runs `adharvest sql` on folders whose names are
// glob patterns, hold a backslash or sit under key=value folders: each reads
// its own rows with the partition values of its own tables, and so do the
// views --print-views gives to another DuckDB.
func TestSQLOnHostileFolderNames(t *testing.T) {
	const query = "SELECT ad_id, country_code FROM ads_all ORDER BY ALL"
	const reports = "SELECT query_country, country_code FROM ad_reports_all"
	for _, tc := range []struct{ name, decoy string }{
		{"run[1]", "run1"},
		{"a*b", "aXb"},
		{"q?", "qX"},
		{`back\slash`, "backXslash"},
		{"country_code=ZZ/out", ""},
		{"query_country=ZZ/out", ""},
	} {
		t.Run(strings.ReplaceAll(tc.name, "/", "_"), func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, tc.name)
			writeNamedHarvest(t, dir, 10, 11, 12)
			if tc.decoy != "" {
				writeNamedHarvest(t, filepath.Join(base, tc.decoy), 990, 991)
			}

			code, out, stderr := runCLI(t, "sql", "--out", dir, "--format", "csv", query)
			if want := "ad_id,country_code\n10,FR\n11,FR\n12,DE\n"; code != 0 || out != want {
				t.Errorf("sql: exit %d %s\ngot  %q\nwant %q", code, stderr, out, want)
			}
			code, out, stderr = runCLI(t, "sql", "--out", dir, "--format", "csv", reports)
			if want := "query_country,country_code\nFR,DE\n"; code != 0 || out != want {
				t.Errorf("sql: exit %d %s\ngot  %q\nwant %q", code, stderr, out, want)
			}

			code, script, stderr := runCLI(t, "sql", "--out", dir, "--print-views")
			if code != 0 {
				t.Fatalf("--print-views: exit %d %s", code, stderr)
			}
			db, err := sql.Open("duckdb", "")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, err := db.Exec(script); err != nil {
				t.Fatalf("views script: %v\n%s", err, script)
			}
			var got string
			if err := db.QueryRow("SELECT string_agg(ad_id || ' ' || country_code, ',' ORDER BY ad_id) FROM ads_all").Scan(&got); err != nil || got != "10 FR,11 FR,12 DE" {
				t.Errorf("views script: ads_all %q %v, want 10 FR,11 FR,12 DE", got, err)
			}
			if err := db.QueryRow("SELECT query_country || ' ' || country_code FROM ad_reports_all").Scan(&got); err != nil || got != "FR DE" {
				t.Errorf("views script: ad_reports_all %q %v, want FR DE", got, err)
			}
		})
	}
}
