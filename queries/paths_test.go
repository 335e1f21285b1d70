package queries

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/folder"
	"adharvest/sink"
)

// Paths are data too: an output folder may be called anything a file system
// allows, and its name must reach DuckDB and filepath.Glob as a name, never
// as a pattern or as Hive partitions.

// hostilePaths are output folders (relative to a test's base folder) whose
// names are glob patterns, hold a backslash or key=value segments, or would
// break a SQL comment. decoy is a sibling that the name, read as a pattern,
// would also match ("" when there is none).
var hostilePaths = []struct{ name, decoy string }{
	{"run[1]", "run1"},
	{"a*b", "aXb"},
	{"q?", "qX"},
	{`back\slash`, "backXslash"},
	{"country_code=ZZ/out", ""},
	{"query_country=ZZ/foo=bar/out", ""},
	{"new\nline 'quoted'", ""},
}

// writeHostile lays out dir as a small harvest: ads in FR (10, 11) and DE
// (12), one ad report asked for FR about DE, one ad detail (10). Its decoy, if
// any, holds other rows (990) under the partition XX.
func writeHostile(t *testing.T, dir, decoy string) {
	t.Helper()
	p := prov("2024-06-01T10:00:00Z", "run-1", "shard-0")
	write := func(dir string, country string, ids ...int64) {
		var ads []sink.AdRow
		for _, id := range ids {
			ads = append(ads, sink.AdRow{AdFields: sink.AdFields{AdID: id, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: p})
		}
		f := folder.New(dir)
		if err := sink.WriteParquet(f.Part(sink.Ads, country, "x", 0), ads); err != nil {
			t.Fatal(err)
		}
	}
	f := folder.New(dir)
	write(dir, "FR", 10, 11)
	write(dir, "DE", 12)
	if err := sink.WriteParquet(f.Part(sink.AdReports, "FR", "r", 0), []sink.AdReportRow{{CountryCode: "DE", Count: 3, AdvertiserIDs: []int64{}, Provenance: p}}); err != nil {
		t.Fatal(err)
	}
	if err := sink.WriteParquet(f.Part(sink.AdDetails, "", "details", 0), []sink.AdDetailRow{{AdFields: sink.AdFields{AdID: 10, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: p}}); err != nil {
		t.Fatal(err)
	}
	if decoy != "" {
		write(decoy, "XX", 990)
		if err := sink.WriteParquet(folder.New(decoy).Part(sink.AdDetails, "", "details", 0), []sink.AdDetailRow{{AdFields: sink.AdFields{AdID: 990}, Provenance: p}}); err != nil {
			t.Fatal(err)
		}
	}
}

// hostileWant is what the views of a folder written by writeHostile give.
var hostileWant = []struct{ query, want string }{
	{"SELECT ad_id, country_code FROM ads_all ORDER BY ALL", "10|FR\n11|FR\n12|DE"},
	{"SELECT ad_id, country_code FROM ads ORDER BY ALL", "10|FR\n11|FR\n12|DE"},
	{"SELECT query_country, country_code, count FROM ad_reports_all", "FR|DE|3"},
	{"SELECT ad_id FROM ad_details_all", "10"},
	{"SELECT count(*) FROM advertisers_all", "0"},
}

// TestHostileOutputPaths reads folders with hostile names through Open and
// through the script of Views run in a fresh DuckDB: exactly their own rows,
// partition values from the table's own folders, and the same columns as a
// folder with a plain name.
func TestHostileOutputPaths(t *testing.T) {
	plainDir := filepath.Join(t.TempDir(), "plain")
	writeHostile(t, plainDir, "")
	plain := open(t, plainDir)
	for _, hp := range hostilePaths {
		t.Run(strings.ReplaceAll(hp.name, "/", "_"), func(t *testing.T) {
			base := t.TempDir()
			dir := filepath.Join(base, hp.name)
			decoy := ""
			if hp.decoy != "" {
				decoy = filepath.Join(base, hp.decoy)
			}
			writeHostile(t, dir, decoy)

			e, err := Open(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			for _, q := range hostileWant {
				if got := queryString(t, e, q.query); got != q.want {
					t.Errorf("%s\ngot  %q\nwant %q", q.query, got, q.want)
				}
			}
			for _, v := range []string{"ads_all", "ad_reports_all", "ad_details_all"} {
				if got, want := describe(t, e.DB(), v), describe(t, plain.DB(), v); got != want {
					t.Errorf("DESCRIBE %s:\n%s\nwant (a plain folder name):\n%s", v, got, want)
				}
			}

			script, err := Views(dir)
			if err != nil {
				t.Fatal(err)
			}
			db := freshDB(t, script)
			for _, q := range hostileWant {
				if got := dbString(t, db, q.query); got != q.want {
					t.Errorf("views script: %s\ngot  %q\nwant %q\n%s", q.query, got, q.want, script)
				}
			}
			if got, want := describe(t, db, "ads_all"), describe(t, plain.DB(), "ads_all"); got != want {
				t.Errorf("views script: DESCRIBE ads_all:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

// dbString is queryString for a plain *sql.DB.
func dbString(t *testing.T, db *sql.DB, query string) string {
	t.Helper()
	e := &Engine{db: db}
	return queryString(t, e, query)
}
