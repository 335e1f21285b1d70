package commands_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"adharvest/folder"
	"adharvest/internal/testkit"
	"adharvest/sink"
	"adharvest/tiktok/apitest"
)

// Tests of what a researcher meets first with `adharvest sql` and `export`:
// counting by search term, a wrong folder, ids in JSON, NULL in CSV, scripts
// of several statements, a views script that travels, and which fields the
// service sends.

// researcherTerms are searched together, so that many ads are found under
// more than one of them (every ad of the fake API carries up to three
// keywords).
var researcherTerms = []string{"coffee", "election", "vote"}

const researcherFrom, researcherTo = "2024-01-01", "2024-01-21"

// harvestTerms harvests ads, their details and commercial content for FR and
// DE over three weeks of January 2024, under every researcherTerms, from the
// fake API with its quirks.
func harvestTerms(t *testing.T) (*apitest.Server, string) {
	t.Helper()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	testkit.SetEnv(t, srv)
	dir := filepath.Join(t.TempDir(), "harvest")
	args := harvestArgs(dir, "--datasets", "ads,ad-details,commercial-content", "--countries", "FR,DE",
		"--from", researcherFrom, "--to", researcherTo)
	for _, term := range researcherTerms {
		args = append(args, "--term", term)
	}
	if code, _, stderr := runCLI(t, args...); code != 0 {
		t.Fatalf("harvest: exit %d: %s", code, stderr)
	}
	return srv, dir
}

// sqlOut runs `adharvest sql --out dir args...` and fails the test unless it
// exits 0.
func sqlOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	code, out, stderr := runCLI(t, append([]string{"sql", "--out", dir}, args...)...)
	if code != 0 {
		t.Fatalf("sql %q: exit %d: %s", args, code, stderr)
	}
	return out
}

// sqlInt runs a query that returns one integer.
func sqlInt(t *testing.T, dir, query string) int {
	t.Helper()
	out := strings.TrimSpace(sqlOut(t, dir, "--format", "csv", query))
	lines := strings.Split(out, "\n")
	n, err := strconv.Atoi(lines[len(lines)-1])
	if err != nil || len(lines) != 2 {
		t.Fatalf("%s: %q is not one integer", query, out)
	}
	return n
}

func TestResearcherQueries(t *testing.T) {
	srv, dir := harvestTerms(t)

	// Point 1: the deduplicated ads keep one row per (ad, country), so
	// their search_term is only the term fetched last. search_terms lists
	// every term the ad was found under in that country.
	t.Run("count by search term", func(t *testing.T) {
		for _, term := range researcherTerms {
			want := testkit.ExpectedAds(srv.Universe(), []string{"FR", "DE"}, researcherFrom, researcherTo, term)
			all := sqlInt(t, dir, "SELECT count(DISTINCT (ad_id, country_code)) FROM ads_all WHERE search_term = '"+term+"'")
			got := sqlInt(t, dir, "SELECT count(*) FROM ads WHERE list_contains(search_terms, '"+term+"')")
			if all != len(want) || got != len(want) {
				t.Errorf("%s: %d ads in ads, %d in ads_all, want %d", term, got, all, len(want))
			}
		}
		// The fixture means something: some ads were found under two
		// terms, so search_term alone undercounts.
		if n := sqlInt(t, dir, "SELECT count(*) FROM ads WHERE len(search_terms) > 1"); n == 0 {
			t.Fatal("no ad found under two terms: the test proves nothing")
		}
		under := 0
		for _, term := range researcherTerms {
			under += sqlInt(t, dir, "SELECT count(*) FROM ads WHERE list_contains(search_terms, '"+term+"') AND search_term <> '"+term+"'")
		}
		if under == 0 {
			t.Error("search_term is never another term than one of search_terms")
		}
		// shard_ids names every shard (query) the ad came from, and
		// search_term is the term of the newest fetch, one of the list.
		if n := sqlInt(t, dir, "SELECT count(*) FROM ads WHERE len(shard_ids) <> len(search_terms) OR NOT list_contains(search_terms, search_term) OR NOT list_contains(shard_ids, shard_id)"); n != 0 {
			t.Errorf("%d ads whose lists disagree with their newest fetch", n)
		}
		if n := sqlInt(t, dir, `SELECT count(*) FROM ads a WHERE search_terms <> (
			SELECT list_sort(list_distinct(list(search_term))) FROM ads_all b WHERE b.ad_id = a.ad_id AND b.country_code = a.country_code)`); n != 0 {
			t.Errorf("%d ads whose search_terms differ from the terms in ads_all", n)
		}
	})

	// Point 4: a folder that holds no harvest is refused, with one line,
	// by sql and export, and the line helps.
	t.Run("wrong folder", func(t *testing.T) {
		empty := t.TempDir()
		notOurs := t.TempDir()
		os.WriteFile(filepath.Join(notOurs, "manifest.json"), []byte(`{"name": "a browser extension", "version": "1.0"}`), 0o644)
		for _, tc := range []struct {
			name, dir string
			want      []string
		}{
			{"the parent", filepath.Dir(dir), []string{"holds no harvest", dir}},
			{"a table folder", filepath.Join(dir, "ads"), []string{"holds no harvest", "inside the harvest " + dir}},
			{"a partition folder", filepath.Join(dir, "ads", "country_code=FR"), []string{"holds no harvest", "inside the harvest " + dir}},
			{"an empty folder", empty, []string{"holds no harvest", folder.CheckpointName(), "manifest.json"}},
			{"another tool's manifest", notOurs, []string{"holds no harvest"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, stdout, stderr := runCLI(t, "sql", "--out", tc.dir, "SELECT count(*) FROM ads")
				checkUsageError(t, code, stderr, tc.want...)
				if stdout != "" {
					t.Errorf("sql printed %q", stdout)
				}
				target := filepath.Join(t.TempDir(), "x.duckdb")
				code, _, stderr = runCLI(t, "export", "--out", tc.dir, "--duckdb", target)
				checkUsageError(t, code, stderr, tc.want...)
				if _, err := os.Stat(target); !os.IsNotExist(err) {
					t.Error("a refused export wrote its file")
				}
				code, _, stderr = runCLI(t, "sql", "--out", tc.dir, "--print-views")
				checkUsageError(t, code, stderr, tc.want...)
			})
		}

		// What holds a harvest: a checkpoint, or a manifest, even before
		// any table has a file; or table files alone.
		started := t.TempDir()
		if err := os.MkdirAll(filepath.Dir(folder.New(started).Checkpoint()), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, folder.New(dir).Checkpoint(), folder.New(started).Checkpoint())
		manifestOnly := t.TempDir()
		copyFile(t, folder.New(dir).Manifest(), folder.New(manifestOnly).Manifest())
		partsOnly := t.TempDir()
		writeNamedHarvest(t, partsOnly, 10, 11)
		for name, d := range map[string]string{"checkpoint": started, "manifest": manifestOnly, "parts": partsOnly} {
			if code, _, stderr := runCLI(t, "sql", "--out", d, "SELECT count(*) FROM ads"); code != 0 {
				t.Errorf("%s only: exit %d %s", name, code, stderr)
			}
		}
	})

	// Point 5: 64-bit ids survive readers that parse JSON numbers as
	// doubles (JavaScript, jq 1.6) when asked for as strings.
	t.Run("json ids as strings", func(t *testing.T) {
		const q = "SELECT ad_id, business_id, count(*) OVER () AS n, 7::INTEGER AS small, [business_id] AS ids FROM ads WHERE business_id > 9007199254740993 ORDER BY business_id DESC LIMIT 3"
		plain := sqlOut(t, dir, "--format", "json", q)
		out := sqlOut(t, dir, "--format", "json", "--json-bigint-as-string", q)
		var rows []map[string]any
		if err := json.Unmarshal([]byte(out), &rows); err != nil || len(rows) == 0 {
			t.Fatalf("%v: %s", err, out)
		}
		var exact []string
		for _, r := range rows {
			id, ok := r["business_id"].(string)
			if !ok || !strings.Contains(plain, `"business_id":`+id+`,`) {
				t.Fatalf("business_id %#v is not the string of the number in %s", r["business_id"], plain)
			}
			if _, ok := r["ad_id"].(string); !ok {
				t.Errorf("ad_id %#v is not a string", r["ad_id"])
			}
			if _, ok := r["n"].(string); !ok {
				t.Errorf("a BIGINT count %#v is not a string", r["n"])
			}
			if r["small"] != 7.0 {
				t.Errorf("an INTEGER became %#v", r["small"])
			}
			if l, ok := r["ids"].([]any); !ok || len(l) != 1 || l[0] != id {
				t.Errorf("ids %#v: want [%q]", r["ids"], id)
			}
			exact = append(exact, id)
		}
		want := strings.Join(exact, "\n") + "\n"
		if node, err := exec.LookPath("node"); err == nil {
			script := `let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const r of JSON.parse(s))console.log(String(r.business_id))})`
			for _, tc := range []struct {
				in    string
				exact bool
			}{{plain, false}, {out, true}} {
				cmd := exec.Command(node, "-e", script)
				cmd.Stdin = strings.NewReader(tc.in)
				got, err := cmd.Output()
				if err != nil {
					t.Fatal(err)
				}
				if (string(got) == want) != tc.exact {
					t.Errorf("node JSON.parse read %q, exact ids %q (want exact: %v)", got, want, tc.exact)
				}
			}
		}
		if jq, err := exec.LookPath("jq"); err == nil {
			cmd := exec.Command(jq, "-r", ".[].business_id")
			cmd.Stdin = strings.NewReader(out)
			if got, err := cmd.Output(); err != nil || string(got) != want {
				t.Errorf("jq read %q %v, want %q", got, err, want)
			}
		}
		code, _, stderr := runCLI(t, "sql", "--out", dir, "--format", "csv", "--json-bigint-as-string", q)
		checkUsageError(t, code, stderr, "--json-bigint-as-string", "json")
	})

	// Point 6: empty text and NULL are told apart in CSV: "" against an
	// empty field, or a marker of one's own choice with --csv-null.
	t.Run("csv null and empty text", func(t *testing.T) {
		const q = "SELECT ad_id, search_type, status_statement FROM ads WHERE status_statement IS NULL AND search_type = '' ORDER BY ad_id LIMIT 2"
		out := sqlOut(t, dir, "--format", "csv", q)
		lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(lines) != 3 || lines[0] != "ad_id,search_type,status_statement" {
			t.Fatalf("csv %q", out)
		}
		for _, l := range lines[1:] {
			if !strings.HasSuffix(l, `,"",`) {
				t.Errorf("row %q: want empty text as \"\" and NULL as nothing", l)
			}
		}
		// DuckDB's own CSV reader tells them apart when told that quoted
		// values are never NULL.
		file := filepath.Join(t.TempDir(), "ads.csv")
		os.WriteFile(file, []byte(out), 0o644)
		db, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var empties, nulls int
		if err := db.QueryRow("SELECT count(*) FILTER (WHERE search_type = ''), count(*) FILTER (WHERE status_statement IS NULL) FROM read_csv(?, allow_quoted_nulls = false, all_varchar = true)", file).Scan(&empties, &nulls); err != nil {
			t.Fatal(err)
		}
		if empties != 2 || nulls != 2 {
			t.Errorf("read_csv: %d empty search types, %d NULL statements; want 2 and 2", empties, nulls)
		}

		marked := sqlOut(t, dir, "--format", "csv", "--csv-null", `\N`, q)
		if want := strings.ReplaceAll(out, `,"",`+"\n", `,"",\N`+"\n"); marked != want {
			t.Errorf("--csv-null:\ngot  %q\nwant %q", marked, want)
		}
		// Python's csv module (which ignores quotes, as pandas does) reads
		// the marker back as it is and the empty text as empty.
		if py, err := exec.LookPath("python3"); err == nil {
			cmd := exec.Command(py, "-c", "import csv,sys\nfor r in list(csv.reader(sys.stdin))[1:]: print(repr(r[1]), repr(r[2]))")
			cmd.Stdin = strings.NewReader(marked)
			got, err := cmd.Output()
			if want := strings.Repeat(`'' '\\N'`+"\n", 2); err != nil || string(got) != want {
				t.Errorf("python csv read %q %v, want %q", got, err, want)
			}
		}

		// export --csv writes the same cells.
		csvDir := filepath.Join(t.TempDir(), "csv")
		if code, _, stderr := runCLI(t, "export", "--out", dir, "--csv", csvDir, "--csv-null", `\N`); code != 0 {
			t.Fatalf("export: exit %d %s", code, stderr)
		}
		b, _ := os.ReadFile(filepath.Join(csvDir, "ads.csv"))
		if !strings.Contains(string(b), `,"",`) || !strings.Contains(string(b), `,\N,`) {
			t.Errorf("export ads.csv has no \"\" or no \\N:\n%.600s", b)
		}
		code, _, stderr := runCLI(t, "sql", "--out", dir, "--format", "json", "--csv-null", "NULL", q)
		checkUsageError(t, code, stderr, "--csv-null")
	})

	// Point 7: a script of several statements prints the result of each.
	t.Run("several statements", func(t *testing.T) {
		q1 := "SELECT country_code, count(*) AS n FROM ads GROUP BY 1 ORDER BY 1"
		q2 := "SELECT count(*) AS details FROM ad_details"
		for _, tc := range []struct{ format, sep string }{{"table", "\n"}, {"csv", "\n"}, {"json", ""}} {
			want := sqlOut(t, dir, "--format", tc.format, q1) + tc.sep + sqlOut(t, dir, "--format", tc.format, q2)
			code, got, stderr := runCLIWithStdin(t, q1+";\n-- and then\n"+q2+";\n", "sql", "--out", dir, "--format", tc.format, "-")
			if code != 0 || got != want {
				t.Errorf("%s: exit %d %s\ngot  %q\nwant %q", tc.format, code, stderr, got, want)
			}
		}
		// Statements that only prepare (SET, CREATE) run on the same
		// connection as the rest and print nothing.
		code, got, stderr := runCLIWithStdin(t, "SET threads = 2;\nCREATE TEMP TABLE fr AS SELECT * FROM ads WHERE country_code = 'FR';\nSELECT count(*) AS fr FROM fr;\n",
			"sql", "--out", dir, "--format", "csv")
		if want := fmt.Sprintf("fr\n%d\n", sqlInt(t, dir, "SELECT count(*) FROM ads WHERE country_code = 'FR'")); code != 0 || got != want {
			t.Errorf("setup then query: exit %d %s\ngot  %q\nwant %q", code, stderr, got, want)
		}
		// The position of an error is in the script, not in its statement.
		code, _, stderr = runCLIWithStdin(t, "SELECT 1 AS one;\nSELECT 2 AS two; SELECT nope\nFROM ads;\n", "sql", "--out", dir, "-")
		checkUsageError(t, code, stderr, `"nope"`, "line 2, column 25")
	})

	// Point 13: --print-views --relative prints a script that reads the
	// folder wherever it has moved, from DuckDB started inside it.
	t.Run("relative views", func(t *testing.T) {
		abs, _ := filepath.Abs(dir)
		script := sqlOut(t, dir, "--print-views", "--relative")
		if strings.Contains(script, abs) {
			t.Fatalf("--relative script names %s", abs)
		}
		if !strings.Contains(sqlOut(t, dir, "--print-views"), abs) {
			t.Fatalf("the default script no longer names %s", abs)
		}
		want := sqlInt(t, dir, "SELECT count(*) FROM ads_all")
		moved := filepath.Join(t.TempDir(), "sent to a colleague")
		if err := os.CopyFS(moved, os.DirFS(dir)); err != nil {
			t.Fatal(err)
		}
		t.Chdir(moved)
		db, err := sql.Open("duckdb", "")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(script); err != nil {
			t.Fatalf("script: %v", err)
		}
		var n int
		var countries string
		if err := db.QueryRow("SELECT count(*), string_agg(DISTINCT country_code, ',' ORDER BY country_code) FROM ads_all").Scan(&n, &countries); err != nil || n != want || countries != "DE,FR" {
			t.Errorf("moved folder: %d ads_all rows in %q (%v), want %d in DE,FR", n, countries, err, want)
		}
		code, _, stderr := runCLI(t, "sql", "--out", ".", "--relative", "SELECT 1")
		checkUsageError(t, code, stderr, "--relative", "--print-views")
	})

	// Which fields the service sent: one row per dataset, field and
	// country, over every column the tables have.
	t.Run("field completeness", func(t *testing.T) {
		out := sqlOut(t, dir, "--format", "json", `SELECT dataset, field, country_code, "rows", present, share FROM field_completeness`)
		var rows []struct {
			Dataset, Field string
			Country        *string `json:"country_code"`
			Rows, Present  int
			Share          float64
		}
		if err := json.Unmarshal([]byte(out), &rows); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range rows {
			country := "NULL"
			if r.Country != nil {
				country = *r.Country
			}
			seen[r.Dataset+"."+r.Field+"."+country] = true
			if r.Rows == 0 || r.Present > r.Rows || r.Share != float64(r.Present)/float64(r.Rows) {
				t.Errorf("%+v", r)
			}
		}
		// Every column of each table but its key and adharvest's
		// provenance, in every country; an ad's details under each country
		// the ad was found in.
		for _, tc := range []struct{ table, dataset string }{{"ads", "ads"}, {"ad_details", "ad-details"}, {"commercial_content", "commercial-content"}} {
			cols := strings.Split(strings.TrimSpace(sqlOut(t, dir, "--format", "csv", "SELECT column_name FROM (DESCRIBE "+tc.table+")")), "\n")[1:]
			tb, _ := sink.Lookup(tc.table)
			for _, c := range cols {
				skip := strings.Contains(",country_code,search_term,search_type,window_start,window_end,fetched_at,run_id,shard_id,search_terms,shard_ids,"+strings.Join(tb.Key, ",")+",", ","+c+",")
				for _, country := range []string{"FR", "DE"} {
					if k := tc.dataset + "." + c + "." + country; seen[k] == skip {
						t.Errorf("%s in field_completeness: %v", k, seen[k])
					}
				}
			}
		}
		for _, tc := range []struct{ field, present string }{
			{"status_statement", "status_statement IS NOT NULL AND status_statement <> ''"},
			{"video_urls", "len(video_urls) > 0"},
			{"reach_upper", "reach_upper IS NOT NULL"},
		} {
			want := sqlInt(t, dir, "SELECT count(*) FROM ads WHERE country_code = 'FR' AND "+tc.present)
			got := sqlInt(t, dir, "SELECT present FROM field_completeness WHERE dataset = 'ads' AND country_code = 'FR' AND field = '"+tc.field+"'")
			if got != want {
				t.Errorf("%s: present %d, want %d", tc.field, got, want)
			}
		}
		// The export has it as a table too.
		file := filepath.Join(t.TempDir(), "h.duckdb")
		if code, _, stderr := runCLI(t, "export", "--out", dir, "--duckdb", file); code != 0 {
			t.Fatalf("export: exit %d %s", code, stderr)
		}
		db, err := sql.Open("duckdb", file+"?access_mode=read_only")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow("SELECT count(*) FROM field_completeness").Scan(&n); err != nil || n != len(rows) {
			t.Errorf("exported field_completeness: %d rows %v, want %d", n, err, len(rows))
		}
	})
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
