package commands_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"adharvest/folder"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/manifest"
	"adharvest/queries"
	"adharvest/sink"
	"adharvest/sqlprompt"
	"adharvest/tiktok/apitest"
)

// Tests of `adharvest sql` (canned analyses, output formats, stdin, the
// prompt's loop) and `adharvest export`, all on one harvest of the fake API.
// Golden files live under testdata/analyses/: <name>.csv per analysis, and
// views/<view>.txt per view (its row count and a small sample). Regenerate
// them with
//
//	go test ./commands -run TestSQLAnalysesAndExport -update
//
// and read the diff: the fake API's universe is fixed by its seed, so a
// change there means the harvest or a query changed.

// harvestThreeWeeks harvests every dataset for FR and DE, three weeks of
// January 2024, term "coffee", from the fake API with its quirks on and the
// default seed.
func harvestThreeWeeks(t *testing.T) string {
	t.Helper()
	// Behind Corrupt, so that the rejects table has rows to show too.
	_, url := testkit.StartCorrupt(t, apitest.Options{Quirks: true}, apitest.CorruptOptions{Every: 60, Seed: 3})
	testkit.SetEnvURL(t, url)
	dir := filepath.Join(t.TempDir(), "harvest")
	code, _, stderr := runCLI(t, harvestArgs(dir,
		"--datasets", "ads,ad-details,ad-reports,commercial-content,advertisers", "--countries", "FR,DE",
		"--from", "2024-01-01", "--to", "2024-01-21", "--term", "coffee")...)
	if code != 0 {
		t.Fatalf("harvest: exit %d: %s", code, stderr)
	}
	return dir
}

// viewNames lists every view: each table and its _all twin.
func viewNames() []string {
	var names []string
	for _, tb := range sink.Tables {
		names = append(names, tb.Name, tb.Name+"_all")
	}
	return names
}

// checkUsageError checks a usage error: exit 2, one stderr line naming want.
func checkUsageError(t *testing.T, code int, stderr string, want ...string) {
	t.Helper()
	if code != 2 || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stderr %q: want exit 2 and one line", code, stderr)
	}
	for _, w := range want {
		if !strings.Contains(stderr, w) {
			t.Fatalf("stderr %q does not name %q", stderr, w)
		}
	}
}

func TestSQLAnalysesAndExport(t *testing.T) {
	dir := harvestThreeWeeks(t)
	ctx := context.Background()

	t.Run("analyses golden", func(t *testing.T) {
		golden := filepath.Join("testdata", "analyses")
		var names []string
		for _, a := range queries.Analyses() {
			names = append(names, a.Name)
			code, out, stderr := runCLI(t, "sql", "--out", dir, "--query", a.Name, "--format", "csv")
			if code != 0 {
				t.Fatalf("%s: exit %d: %s", a.Name, code, stderr)
			}
			// Every analysis has something to show in this harvest, but
			// those of the media it does not archive (see the export below).
			// Nor has publication-latency: its ads were all published
			// long before the harvest, not while it monitored.
			if strings.Count(out, "\n") < 2 && !strings.HasPrefix(a.Name, "media") && a.Name != "publication-latency" {
				t.Errorf("%s: no rows:\n%s", a.Name, out)
			}
			if a.Name == "monitoring-daily" {
				// Its days of first fetch are the day the harvest ran.
				m, err := manifest.Read(filepath.Join(dir, "manifest.json"))
				if err != nil || len(m.Runs) == 0 {
					t.Fatalf("manifest: %v", err)
				}
				out = strings.ReplaceAll(out, m.Runs[0].Started.UTC().Format("2006-01-02"), "RUN-DAY")
			}
			testkit.Golden(t, filepath.Join(golden, a.Name+".csv"), out)
		}
		// No golden file is left over from a renamed analysis.
		files, _ := filepath.Glob(filepath.Join(golden, "*.csv"))
		var have []string
		for _, f := range files {
			have = append(have, strings.TrimSuffix(filepath.Base(f), ".csv"))
		}
		sort.Strings(have)
		if !testkit.Updating() && strings.Join(have, ",") != strings.Join(names, ",") {
			t.Errorf("golden files %v, analyses %v", have, names)
		}
	})

	t.Run("views golden", func(t *testing.T) {
		eng, err := queries.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		for _, v := range viewNames() {
			var b strings.Builder
			// fetched_at and run_id (and a reject's log_id, which holds the
			// time) change with every harvest; the rest is fixed by the fake
			// API's seed.
			exclude := "fetched_at, run_id"
			if strings.HasPrefix(v, sink.Rejects.Name) {
				exclude += ", log_id"
			}
			if strings.HasPrefix(v, sink.Coverage.Name) {
				exclude = "updated_at" // the coverage table has no provenance
			}
			if v == sink.Ads.Name {
				exclude += ", first_seen_at" // the time of the first fetch
			}
			for _, q := range []string{
				"SELECT count(*) AS n FROM " + v,
				"SELECT * EXCLUDE (" + exclude + ") FROM " + v + " ORDER BY ALL LIMIT 3",
			} {
				rows, err := eng.Query(ctx, q)
				if err != nil {
					t.Fatalf("%s: %v", q, err)
				}
				fmt.Fprintf(&b, "# %s\n", q)
				if err := queries.Write(&b, "csv", rows); err != nil {
					t.Fatal(err)
				}
				b.WriteString("\n")
			}
			// The media views may be empty: see the export's check below.
			if strings.HasPrefix(b.String(), "# SELECT count(*) AS n FROM "+v+"\nn\n0\n") && !strings.HasPrefix(v, "media") {
				t.Errorf("view %s is empty", v)
			}
			testkit.Golden(t, filepath.Join("testdata", "analyses", "views", v+".txt"), b.String())
		}
	})

	t.Run("list", func(t *testing.T) {
		code, out, stderr := runCLI(t, "sql", "--list")
		if code != 0 {
			t.Fatalf("exit %d %s", code, stderr)
		}
		for _, a := range queries.Analyses() {
			if !strings.Contains(out, a.Name) || !strings.Contains(out, a.Description) {
				t.Errorf("--list does not show %s: %q", a.Name, a.Description)
			}
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		code, _, stderr := runCLI(t, "sql", "--out", dir, "--query", "top-advertizers")
		checkUsageError(t, code, stderr, append([]string{`"top-advertizers"`}, queries.AnalysisNames()...)...)
		code, _, stderr = runCLI(t, "sql", "--out", dir, "--query", "top-advertisers", "SELECT 1")
		checkUsageError(t, code, stderr, "not both")
		code, _, stderr = runCLI(t, "sql", "--out", dir, "--format", "parquet", "SELECT 1")
		checkUsageError(t, code, stderr, "--output")
		code, _, stderr = runCLI(t, "sql", "--out", dir, "--format", "xml", "SELECT 1")
		checkUsageError(t, code, stderr, "xml")
		code, _, stderr = runCLI(t, "sql", "--out", dir, "--output", filepath.Join(dir, "no", "such", "f.csv"), "SELECT 1")
		checkUsageError(t, code, stderr, "does not exist")
		code, _, stderr = runCLI(t, "sql", "--out", filepath.Join(dir, "missing"), "SELECT 1")
		checkUsageError(t, code, stderr, "missing")
		// DuckDB's message, with where the problem is, on one line.
		code, _, stderr = runCLI(t, "sql", "--out", dir, "SELECT ad_id\nFROM ads\nWHERE nope = 1")
		checkUsageError(t, code, stderr, "Binder Error", `"nope"`, "line 3, column 7", `near "nope = 1"`)
		code, _, stderr = runCLI(t, "sql", "--out", dir, "--format", "parquet", "--output", filepath.Join(t.TempDir(), "x.parquet"), "SELECT * FROM adz")
		checkUsageError(t, code, stderr, "adz", "line 1, column 15")
		code, _, stderr = runCLIWithStdin(t, "  -- nothing but a comment\n", "sql", "--out", dir)
		checkUsageError(t, code, stderr, "give a query")
	})

	t.Run("stdin", func(t *testing.T) {
		const q = "SELECT country_code, count(*) AS n FROM ads GROUP BY 1 ORDER BY 1"
		code, want, stderr := runCLI(t, "sql", "--out", dir, "--format", "csv", q)
		if code != 0 || !strings.Contains(want, "DE,") {
			t.Fatalf("exit %d %q %s", code, want, stderr)
		}
		code, got, stderr := runCLIWithStdin(t, q+";\n", "sql", "--out", dir, "--format", "csv", "-")
		if code != 0 || got != want {
			t.Fatalf("query -: exit %d %q %s, want %q", code, got, stderr, want)
		}
		// No query, and standard input is not a terminal: the query is read
		// from it, comments and all.
		code, got, stderr = runCLIWithStdin(t, "-- per country\n"+q+"\n", "sql", "--out", dir, "--format", "csv")
		if code != 0 || got != want {
			t.Fatalf("piped query: exit %d %q %s, want %q", code, got, stderr, want)
		}
	})

	t.Run("output files", func(t *testing.T) {
		out := t.TempDir()
		csvFile := filepath.Join(out, "weeks.csv")
		code, stdout, stderr := runCLI(t, "sql", "--out", dir, "--query", "ads-per-country-week", "--format", "csv", "--output", csvFile)
		if code != 0 || stdout != "" {
			t.Fatalf("exit %d stdout %q %s", code, stdout, stderr)
		}
		_, want, _ := runCLI(t, "sql", "--out", dir, "--query", "ads-per-country-week", "--format", "csv")
		if b, err := os.ReadFile(csvFile); err != nil || string(b) != want {
			t.Fatalf("--output csv %q %v, want %q", b, err, want)
		}

		pq := filepath.Join(out, "ads.parquet")
		code, stdout, stderr = runCLI(t, "sql", "--out", dir, "--format", "parquet", "--output", pq, "SELECT * FROM ads")
		if code != 0 || stdout != "" {
			t.Fatalf("parquet: exit %d stdout %q %s", code, stdout, stderr)
		}
		// A canned analysis as Parquet too (its header comments and ';').
		code, _, stderr = runCLI(t, "sql", "--out", dir, "--query", "top-advertisers", "--format", "parquet", "--output", filepath.Join(out, "top.parquet"))
		if code != 0 {
			t.Fatalf("analysis as parquet: exit %d %s", code, stderr)
		}
		ents, _ := os.ReadDir(out)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), sink.TempPrefix) {
				t.Errorf("temporary file left: %s", e.Name())
			}
		}

		// --print-views loads into a fresh DuckDB, which then reads the
		// Parquet file back with the same rows as the ads view.
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
			t.Fatalf("views script: %v", err)
		}
		var views, parquetRows, onlyView, onlyFile int
		lit := "'" + strings.ReplaceAll(pq, "'", "''") + "'"
		if err := db.QueryRow(`SELECT
			(SELECT count(*) FROM ads),
			(SELECT count(*) FROM read_parquet(`+lit+`)),
			(SELECT count(*) FROM (SELECT * FROM ads EXCEPT ALL SELECT * FROM read_parquet(`+lit+`))),
			(SELECT count(*) FROM (SELECT * FROM read_parquet(`+lit+`) EXCEPT ALL SELECT * FROM ads))`).
			Scan(&views, &parquetRows, &onlyView, &onlyFile); err != nil {
			t.Fatal(err)
		}
		if views == 0 || views != parquetRows || onlyView != 0 || onlyFile != 0 {
			t.Fatalf("ads view %d rows, parquet %d; %d only in the view, %d only in the file", views, parquetRows, onlyView, onlyFile)
		}
		for _, v := range viewNames() {
			if _, err := db.Exec("SELECT count(*) FROM " + v); err != nil {
				t.Errorf("view %s from --print-views: %v", v, err)
			}
		}
	})

	t.Run("export", func(t *testing.T) {
		out := t.TempDir()
		file := filepath.Join(out, "h.duckdb")
		csvDir := filepath.Join(out, "csv")
		code, stdout, stderr := runCLI(t, "export", "--out", dir, "--duckdb", file, "--csv", csvDir)
		if code != 0 || !strings.Contains(stdout, file) {
			t.Fatalf("exit %d %q %s", code, stdout, stderr)
		}

		// The views' counts, as adharvest sql gives them.
		var sel []string
		for _, v := range viewNames() {
			sel = append(sel, fmt.Sprintf("(SELECT count(*) FROM %s) AS %s", v, v))
		}
		code, js, stderr := runCLI(t, "sql", "--out", dir, "--format", "json", "SELECT "+strings.Join(sel, ", "))
		if code != 0 {
			t.Fatalf("counts: exit %d %s", code, stderr)
		}
		var counts []map[string]int64
		if err := json.Unmarshal([]byte(js), &counts); err != nil || len(counts) != 1 {
			t.Fatalf("counts %q: %v", js, err)
		}

		db, err := sql.Open("duckdb", file+"?access_mode=read_only")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var tables []string
		rows, err := db.Query("SELECT table_name FROM duckdb_tables() ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var n string
			rows.Scan(&n)
			tables = append(tables, n)
		}
		rows.Close()
		want := queries.ExportTableNames()
		sort.Strings(want)
		if strings.Join(tables, ",") != strings.Join(want, ",") {
			t.Fatalf("tables %v, want %v", tables, want)
		}
		fileCounts := map[string]int64{}
		for _, name := range want {
			var n int64
			if err := db.QueryRow("SELECT count(*) FROM " + name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			fileCounts[name] = n
		}
		for _, v := range viewNames() {
			// This harvest does not archive creatives (its links point at
			// no CDN a test may reach), so the media views are empty: the
			// media package's tests and TestMediaCommand fill them.
			mayBeEmpty := strings.HasPrefix(v, "media")
			if fileCounts[v] != counts[0][v] || (fileCounts[v] == 0 && !mayBeEmpty) {
				t.Errorf("%s: %d rows in the export, %d in the view", v, fileCounts[v], counts[0][v])
			}
		}
		// They are tables, not views that would need the Parquet files.
		var nviews int
		db.QueryRow("SELECT count(*) FROM duckdb_views() WHERE NOT internal").Scan(&nviews)
		if nviews != 0 {
			t.Errorf("%d views in the export", nviews)
		}

		man, err := manifest.Read(folder.New(dir).Manifest())
		if err != nil {
			t.Fatal(err)
		}
		var jobText, hash, tool string
		var complete bool
		var runs int
		if err := db.QueryRow("SELECT job, job_hash, tool, complete, runs FROM harvest_manifest").Scan(&jobText, &hash, &tool, &complete, &runs); err != nil {
			t.Fatal(err)
		}
		var jb job.Job
		if err := json.Unmarshal([]byte(jobText), &jb); err != nil {
			t.Fatalf("job %q: %v", jobText, err)
		}
		wantJob, _ := json.Marshal(man.Job)
		gotJob, _ := json.Marshal(jb)
		if string(gotJob) != string(wantJob) || hash != man.JobHash || tool != "adharvest" || !complete || runs != len(man.Runs) {
			t.Fatalf("harvest_manifest: job %s hash %s tool %s complete %v runs %d; manifest %s %s", gotJob, hash, tool, complete, runs, wantJob, man.JobHash)
		}
		var adsRows int64
		if err := db.QueryRow("SELECT \"rows\" FROM harvest_datasets WHERE dataset = 'ads'").Scan(&adsRows); err != nil || adsRows != man.Datasets["ads"].Rows {
			t.Fatalf("harvest_datasets ads rows %d %v, manifest %d", adsRows, err, man.Datasets["ads"].Rows)
		}

		// One readable CSV per table, a header and one record per row.
		for _, name := range queries.ExportTableNames() {
			f, err := os.Open(filepath.Join(csvDir, name+".csv"))
			if err != nil {
				t.Fatal(err)
			}
			recs, err := csv.NewReader(f).ReadAll()
			f.Close()
			if err != nil {
				t.Fatalf("%s.csv: %v", name, err)
			}
			if len(recs) == 0 || int64(len(recs)-1) != fileCounts[name] {
				t.Errorf("%s.csv: %d records, want a header and %d rows", name, len(recs), fileCounts[name])
			}
		}

		// An existing file is not replaced without --force.
		before, _ := os.ReadFile(filepath.Join(csvDir, "ads.csv"))
		info, _ := os.Stat(file)
		code, _, stderr = runCLI(t, "export", "--out", dir, "--duckdb", file)
		checkUsageError(t, code, stderr, "already exists", "--force")
		code, _, stderr = runCLI(t, "export", "--out", dir, "--csv", csvDir)
		checkUsageError(t, code, stderr, "--force")
		if after, _ := os.Stat(file); !after.ModTime().Equal(info.ModTime()) {
			t.Fatal("refused export changed the file")
		}
		code, _, stderr = runCLI(t, "export", "--out", dir, "--duckdb", file, "--csv", csvDir, "--force")
		if code != 0 {
			t.Fatalf("--force: exit %d %s", code, stderr)
		}
		if after, _ := os.ReadFile(filepath.Join(csvDir, "ads.csv")); !bytes.Equal(after, before) {
			t.Fatal("ads.csv differs between two exports of the same folder")
		}
		ents, _ := os.ReadDir(out)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), sink.TempPrefix) || strings.HasSuffix(e.Name(), ".wal") {
				t.Errorf("left behind: %s", e.Name())
			}
		}

		code, _, stderr = runCLI(t, "export", "--out", filepath.Join(out, "nope"), "--duckdb", filepath.Join(out, "n.duckdb"))
		checkUsageError(t, code, stderr, "nope")
		code, _, stderr = runCLI(t, "export", "--out", dir)
		checkUsageError(t, code, stderr, "--duckdb")
		if _, err := os.Stat(filepath.Join(out, "n.duckdb")); !os.IsNotExist(err) {
			t.Fatal("a refused export left a file")
		}
	})

	t.Run("prompt loop", func(t *testing.T) {
		eng, err := queries.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		defer eng.Close()
		in := strings.Join([]string{
			"-- a comment line, then a statement over three lines",
			"SELECT count(*) AS fr_ads",
			"FROM ads",
			"WHERE country_code = 'FR';",
			".tables",
			".schema ads",
			"SELECT * FROM nope;",
			"SELECT 42 AS answer; SELECT 'a;b' AS semi",
			";",
			".bogus",
			".schema",
			".format csv",
			"SELECT 7 AS seven;",
			".quit",
			"SELECT 99 AS after_quit;",
		}, "\n")
		var out, errOut bytes.Buffer
		if err := (&sqlprompt.Prompt{Engine: eng, Out: &out, Err: &errOut, Format: "table"}).Run(ctx, strings.NewReader(in)); err != nil {
			t.Fatal(err)
		}
		var fr string
		eng.DB().QueryRow("SELECT CAST(count(*) AS VARCHAR) FROM ads WHERE country_code = 'FR'").Scan(&fr)
		got, errs := out.String(), errOut.String()
		for _, want := range []string{
			"fr_ads", " " + fr + "\n", // the multi-line statement
			"ads\n", "ads_all\n", "commercial_content\n", // .tables
			"ad_id", "BIGINT", "column_name", // .schema ads
			"answer", "42", "a;b", // two statements on a line, the second ended on the next
			"seven\n7\n", // .format csv
		} {
			if !strings.Contains(got, want) {
				t.Errorf("output lacks %q:\n%s", want, got)
			}
		}
		if strings.Contains(got, "after_quit") {
			t.Error(".quit did not stop the loop")
		}
		for _, want := range []string{"Error: Catalog Error", "nope", "LINE 1", "unknown command .bogus", "usage: .schema TABLE"} {
			if !strings.Contains(errs, want) {
				t.Errorf("errors lack %q:\n%s", want, errs)
			}
		}

		// The end of input runs a last statement that has no ';'.
		out.Reset()
		if err := (&sqlprompt.Prompt{Engine: eng, Out: &out, Err: &errOut, Format: "csv"}).Run(ctx, strings.NewReader("SELECT 5 AS five")); err != nil || out.String() != "five\n5\n" {
			t.Fatalf("last statement: %q %v", out.String(), err)
		}
	})
}

func TestSQLFormatsAndStatus(t *testing.T) {
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	testkit.SetEnv(t, srv)
	dir := t.TempDir()
	if code, _, stderr := runCLI(t, "harvest", "--out", dir, "--countries", "FR", "--from", "2024-01-01", "--to", "2024-01-07", "--rps", "0", "--progress", "none"); code != 0 {
		t.Fatal(stderr)
	}
	want := len(testkit.ExpectedAds(srv.Universe(), []string{"FR"}, "2024-01-01", "2024-01-07", ""))

	code, out, stderr := runCLI(t, "sql", "--out", dir, "--format", "json", "SELECT ad_id, country_code, first_shown_date FROM ads ORDER BY ad_id")
	if code != 0 {
		t.Fatal(stderr)
	}
	var rows []map[string]any
	dec := json.NewDecoder(strings.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil || len(rows) != want {
		t.Fatalf("json: %d rows, want %d, %v", len(rows), want, err)
	}
	if rows[0]["country_code"] != "FR" || !strings.HasPrefix(rows[0]["first_shown_date"].(string), "2024-01-0") {
		t.Fatalf("row %v", rows[0])
	}

	code, out, _ = runCLI(t, "sql", "--out", dir, "--format", "csv", "SELECT count(*) AS n FROM ads")
	if code != 0 || strings.TrimSpace(out) != "n\n"+itoa(want) {
		t.Fatalf("csv %q", out)
	}
	code, _, stderr = runCLI(t, "sql", "--out", dir, "SELEC nonsense")
	if code != 2 || !strings.Contains(stderr, "syntax error") {
		t.Fatalf("bad SQL: exit %d %q", code, stderr)
	}

	code, out, _ = runCLI(t, "status", "--out", dir)
	if code != 0 || !strings.Contains(out, "ads") || !strings.Contains(out, " 1       1       0       0 ") {
		t.Fatalf("status:\n%s", out)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
