package queries

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/folder"
	"adharvest/sink"
)

// termFetch is one fetch of ad 1 or 2 for TestAdsListEveryTerm.
func termFetch(id int64, term, fetched, shard string) sink.AdRow {
	p := prov(fetched, "run-1", shard)
	p.SearchTerm = term
	return sink.AdRow{AdFields: sink.AdFields{AdID: id, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: p}
}

// The ads view keeps the newest fetch of each (ad, country), and lists every
// term and shard it was found under, so that counting by term is right.
func TestAdsListEveryTerm(t *testing.T) {
	dir := t.TempDir()
	writeAds(t, dir, "FR", "coffee.parquet", termFetch(1, "coffee", "2024-06-01T10:00:00Z", "ads/FR/w_q1"), termFetch(2, "", "2024-06-01T10:00:00Z", "ads/FR/w_all"))
	writeAds(t, dir, "FR", "tea.parquet", termFetch(1, "tea", "2024-06-02T10:00:00Z", "ads/FR/w_q2"))
	writeAds(t, dir, "FR", "again.parquet", termFetch(1, "coffee", "2024-06-03T10:00:00Z", "ads/FR/w_q1"))
	writeAds(t, dir, "DE", "coffee.parquet", termFetch(1, "coffee", "2024-06-01T10:00:00Z", "ads/DE/w_q1"))
	e := open(t, dir)
	for _, tc := range []struct{ query, want string }{
		{"SELECT ad_id, country_code, search_term, search_terms, shard_ids FROM ads ORDER BY ALL", strings.Join([]string{
			`1|DE|coffee|["coffee"]|["ads/DE/w_q1"]`,
			`1|FR|coffee|["coffee","tea"]|["ads/FR/w_q1","ads/FR/w_q2"]`,
			`2|FR||[""]|["ads/FR/w_all"]`,
		}, "\n")},
		{"SELECT count(*) FROM ads WHERE list_contains(search_terms, 'tea')", "1"},
		// What it replaces: the newest fetch's term alone misses ad 1 in FR.
		{"SELECT count(*) FROM ads WHERE search_term = 'tea'", "0"},
		{"SELECT count(*) FROM ads WHERE list_contains(search_terms, 'coffee')", "2"},
		{"SELECT count(*) FROM ads WHERE list_contains(search_terms, '')", "1"},
		{"SELECT typeof(search_terms) || ' ' || typeof(shard_ids) FROM ads LIMIT 1", "VARCHAR[] VARCHAR[]"},
	} {
		if got := queryString(t, e, tc.query); got != tc.want {
			t.Errorf("%s\ngot  %q\nwant %q", tc.query, got, tc.want)
		}
	}
}

func TestCheckFolder(t *testing.T) {
	harvest := filepath.Join(t.TempDir(), "h")
	writeAds(t, harvest, "FR", "x.parquet", termFetch(1, "", "2024-06-01T10:00:00Z", "s"))
	checkpointOnly := t.TempDir()
	os.MkdirAll(filepath.Dir(folder.New(checkpointOnly).Checkpoint()), 0o755)
	os.WriteFile(folder.New(checkpointOnly).Checkpoint(), []byte("bolt"), 0o644)
	manifestOnly := t.TempDir()
	os.WriteFile(folder.New(manifestOnly).Manifest(), []byte(`{"tool": "adharvest", "version": "dev"}`), 0o644)
	for _, d := range []string{harvest, checkpointOnly, manifestOnly} {
		if err := CheckFolder(d); err != nil {
			t.Errorf("CheckFolder(%s) = %v", d, err)
		}
	}

	empty := t.TempDir()
	stateOnly := t.TempDir()
	os.MkdirAll(filepath.Join(stateOnly, "_adharvest"), 0o755) // a lock, no checkpoint
	otherManifest := t.TempDir()
	os.WriteFile(folder.New(otherManifest).Manifest(), []byte(`{"manifest_version": 3}`), 0o644)
	onlyTemp := t.TempDir()
	tmp := filepath.Join(folder.New(onlyTemp).PartitionDir(sink.Ads, "FR"), sink.TempPrefix+"x.parquet-1")
	os.MkdirAll(filepath.Dir(tmp), 0o755)
	os.WriteFile(tmp, []byte("half"), 0o644)
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	for _, tc := range []struct {
		dir      string
		want     []string
		notExist bool
	}{
		{empty, []string{empty + " holds no harvest", folder.CheckpointName(), "manifest.json", "table files"}, false},
		{stateOnly, []string{"holds no harvest"}, false},
		{otherManifest, []string{"holds no harvest"}, false},
		{onlyTemp, []string{"holds no harvest"}, false},
		{filepath.Dir(harvest), []string{"holds no harvest", "but " + harvest + " in it does"}, false},
		{folder.New(harvest).TableDir(sink.Ads), []string{"inside the harvest " + harvest}, false},
		{folder.New(harvest).PartitionDir(sink.Ads, "FR"), []string{"inside the harvest " + harvest}, false},
		{filepath.Join(empty, "nope"), []string{"nope does not exist"}, true},
		{file, []string{"is a file"}, false},
	} {
		err := CheckFolder(tc.dir)
		var fe *FolderError
		if !errors.As(err, &fe) {
			t.Errorf("CheckFolder(%s) = %v, want a *FolderError", tc.dir, err)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("CheckFolder(%s) = %q, lacks %q", tc.dir, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("two lines: %q", err)
		}
		if errors.Is(err, fs.ErrNotExist) != tc.notExist || errors.Is(err, ErrNoHarvest) == tc.notExist {
			t.Errorf("CheckFolder(%s): errors.Is ErrNotExist %v, ErrNoHarvest %v", tc.dir, errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrNoHarvest))
		}
	}

	// A relative table folder names its harvest relative too.
	t.Chdir(filepath.Dir(harvest))
	if err := CheckFolder(filepath.Join("h", "ads")); err == nil || !strings.Contains(err.Error(), "inside the harvest h;") {
		t.Errorf("relative: %v", err)
	}
}

func writeWith(t *testing.T, e *Engine, format, query string, o WriteOptions) string {
	t.Helper()
	rows, err := e.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteWith(&b, format, rows, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestJSONBigIntAsString(t *testing.T) {
	e := open(t, t.TempDir())
	const q = `SELECT 7057157514558702338 AS id, 18446744073709551615::UBIGINT AS ubig, 170141183460469231731687303715884105727::HUGEINT AS huge,
		2147483647::INTEGER AS int, 1.5::DECIMAL(4,1) AS dec, [1, 2]::BIGINT[] AS ids, {'id': 9::BIGINT, 'n': 1::INTEGER} AS s,
		MAP {9::BIGINT: 10::BIGINT} AS m, NULL::BIGINT AS none`
	if got, want := writeWith(t, e, "json", q, WriteOptions{}),
		`[`+"\n"+`  {"id":7057157514558702338,"ubig":18446744073709551615,"huge":170141183460469231731687303715884105727,"int":2147483647,"dec":1.5,"ids":[1,2],"s":{"id":9,"n":1},"m":{"9":10},"none":null}`+"\n]\n"; got != want {
		t.Errorf("default:\ngot  %s\nwant %s", got, want)
	}
	if got, want := writeWith(t, e, "json", q, WriteOptions{JSONBigIntAsString: true}),
		`[`+"\n"+`  {"id":"7057157514558702338","ubig":"18446744073709551615","huge":"170141183460469231731687303715884105727","int":2147483647,"dec":1.5,"ids":["1","2"],"s":{"id":"9","n":1},"m":{"9":"10"},"none":null}`+"\n]\n"; got != want {
		t.Errorf("JSONBigIntAsString:\ngot  %s\nwant %s", got, want)
	}
	// Tables and CSV cells are text already.
	if got := writeWith(t, e, "csv", "SELECT 7057157514558702338 AS id, [1]::BIGINT[] AS l", WriteOptions{JSONBigIntAsString: true}); got != "id,l\n7057157514558702338,[1]\n" {
		t.Errorf("csv: %q", got)
	}
}

func TestCSVNullAndEmptyText(t *testing.T) {
	e := open(t, t.TempDir())
	const q = `SELECT '' AS empty, NULL::VARCHAR AS null_text, NULL::BIGINT AS null_number, ''::BLOB AS empty_blob, ' ' AS blank, '\N' AS marker, 'NULL' AS word, [''] AS list`
	for _, tc := range []struct {
		null, want string
	}{
		{"", `"",,,""," ",\N,NULL,"[""""]"` + "\n"},
		{`\N`, `"",\N,\N,""," ","\N",NULL,"[""""]"` + "\n"},
		{"NULL", `"",NULL,NULL,""," ",\N,"NULL","[""""]"` + "\n"},
	} {
		got := writeWith(t, e, "csv", q, WriteOptions{CSVNull: tc.null})
		if want := "empty,null_text,null_number,empty_blob,blank,marker,word,list\n" + tc.want; got != want {
			t.Errorf("CSVNull %q:\ngot  %q\nwant %q", tc.null, got, want)
		}
	}
	// Otherwise the writer quotes exactly as encoding/csv does.
	if got := writeWith(t, e, "csv", `SELECT ' x' AS a, 'a"b' AS b, 'l1'||chr(10)||'l2' AS c, 'a,b' AS d, '\.' AS e, 'plain' AS f`, WriteOptions{}); got != "a,b,c,d,e,f\n\" x\",\"a\"\"b\",\"l1\nl2\",\"a,b\",\"\\.\",plain\n" {
		t.Errorf("quoting: %q", got)
	}
	for _, bad := range []string{"a,b", `"`, "x\ny", " N", `\.`} {
		if err := CheckCSVNull(bad); err == nil {
			t.Errorf("CheckCSVNull(%q): no error", bad)
		}
		rows, _ := e.Query(context.Background(), "SELECT 1")
		if err := WriteWith(&bytes.Buffer{}, "csv", rows, WriteOptions{CSVNull: bad}); err == nil {
			t.Errorf("WriteWith CSVNull %q: no error", bad)
		}
	}
	for _, ok := range []string{"", `\N`, "NULL", "NA", "#N/A"} {
		if err := CheckCSVNull(ok); err != nil {
			t.Errorf("CheckCSVNull(%q) = %v", ok, err)
		}
	}

	// DuckDB reads the default back exactly, given allow_quoted_nulls = false.
	file := filepath.Join(t.TempDir(), "x.csv")
	os.WriteFile(file, []byte(writeWith(t, e, "csv", "SELECT * FROM (VALUES ('', NULL), (NULL, 'x'), ('y', '')) AS v(a, b)", WriteOptions{})), 0o644)
	if got := queryString(t, e, "SELECT coalesce(a, '<null>'), coalesce(b, '<null>') FROM read_csv('"+file+"', allow_quoted_nulls = false, all_varchar = true)"); got != "|<null>\n<null>|x\ny|" {
		t.Errorf("read back: %q", got)
	}
}

func TestRunScript(t *testing.T) {
	e := open(t, writeDataset(t))
	ctx := context.Background()
	run := func(script string) ([]string, error) {
		var out []string
		err := e.RunScript(ctx, script, func(n int, rows *sql.Rows) error {
			if n != len(out) {
				t.Errorf("result %d numbered %d", len(out), n)
			}
			var b bytes.Buffer
			err := Write(&b, "csv", rows)
			out = append(out, b.String())
			return err
		})
		return out, err
	}
	for _, tc := range []struct {
		script string
		want   []string
	}{
		{"SELECT 1 AS a", []string{"a\n1\n"}},
		{"SELECT 1 AS a; SELECT 2 AS b;", []string{"a\n1\n", "b\n2\n"}},
		// Setup statements print nothing and carry over: a temporary
		// table, a setting and a macro live in the session.
		{"SET threads = 1; CREATE TEMP TABLE fr AS SELECT * FROM ads WHERE country_code = 'FR'; CREATE MACRO twice(x) AS 2 * x; SELECT twice(count(*)) AS n FROM fr; SELECT current_setting('threads') AS threads",
			[]string{"n\n4\n", "threads\n1\n"}},
		{"CREATE TEMP TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2); INSERT INTO t VALUES (3) RETURNING x; SELECT sum(x) AS s FROM t", []string{"x\n3\n", "s\n6\n"}},
		// A script that returns no rows shows its last result.
		{"CREATE TEMP TABLE u AS SELECT 1 AS x", []string{"Count\n1\n"}},
		{"CREATE TEMP TABLE v (x INTEGER); INSERT INTO v VALUES (1), (2)", []string{"Count\n2\n"}},
		{"DESCRIBE SELECT 1 AS one; EXPLAIN SELECT 1; PRAGMA version", nil},
		{"SELECT 1 AS a; -- a comment; with a semicolon\nSELECT ';' AS b", []string{"a\n1\n", "b\n;\n"}},
	} {
		got, err := run(tc.script)
		if err != nil {
			t.Errorf("%s: %v", tc.script, err)
			continue
		}
		if tc.want == nil {
			if len(got) != 3 {
				t.Errorf("%s: %d results, want 3", tc.script, len(got))
			}
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s\ngot  %q\nwant %q", tc.script, got, tc.want)
		}
	}

	// An error names its line in the script and ends it.
	script := "SELECT 1 AS a;\n\nSELECT 2 AS b; SELECT nope\nFROM ads;\nSELECT 3 AS c"
	got, err := run(script)
	if err == nil || len(got) != 2 {
		t.Fatalf("results %q, error %v", got, err)
	}
	if msg := Explain(err, script).Error(); !strings.Contains(msg, `"nope"`) || !strings.Contains(msg, "line 3, column 23") {
		t.Errorf("error %q does not point at line 3, column 23", msg)
	}
	if _, err := run("SELECT 1; SELECT * FROM nope"); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("catalog error: %v", err)
	}
}

func TestViewsRelative(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "harvest [1]")
	writeAds(t, dir, "FR", "x.parquet", termFetch(1, "coffee", "2024-06-01T10:00:00Z", "s"), termFetch(2, "", "2024-06-01T10:00:00Z", "s"))
	writeAds(t, dir, "DE", "x.parquet", termFetch(1, "coffee", "2024-06-01T10:00:00Z", "s"))
	script, err := ViewsWith(dir, ViewsOptions{Relative: true})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(script, base) || !strings.Contains(script, "read_parquet('ads/country_code=*/*.parquet'") {
		t.Fatalf("relative script:\n%s", script)
	}
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(dir, moved); err != nil {
		t.Fatal(err)
	}
	t.Chdir(moved)
	db := freshDB(t, script)
	var got string
	if err := db.QueryRow("SELECT string_agg(ad_id || country_code, ',' ORDER BY country_code, ad_id) FROM ads").Scan(&got); err != nil || got != "1DE,1FR,2FR" {
		t.Errorf("ads from the moved folder: %q %v", got, err)
	}
	// The tables without data are typed placeholders, and the completeness
	// view comes along.
	var n int
	if err := db.QueryRow("SELECT (SELECT count(*) FROM ad_details) + (SELECT count(*) FROM field_completeness WHERE dataset <> 'ads')").Scan(&n); err != nil || n != 0 {
		t.Errorf("empty tables: %d %v", n, err)
	}
}

func TestFieldCompleteness(t *testing.T) {
	dir := t.TempDir()
	name, blank, empty := "Acme", "  ", ""
	p := prov("2024-06-01T10:00:00Z", "run-1", "s")
	writeAds(t, dir, "FR", "x.parquet",
		sink.AdRow{AdFields: sink.AdFields{AdID: 1, BusinessName: &name, VideoURLs: []string{"v"}, ImageURLs: []string{}}, Provenance: p},
		sink.AdRow{AdFields: sink.AdFields{AdID: 2, BusinessName: &blank, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: p},
		sink.AdRow{AdFields: sink.AdFields{AdID: 3, BusinessName: &empty, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: p},
		sink.AdRow{AdFields: sink.AdFields{AdID: 4, VideoURLs: []string{"w"}, ImageURLs: []string{}}, Provenance: p},
	)
	writeAds(t, dir, "DE", "x.parquet", sink.AdRow{AdFields: sink.AdFields{AdID: 1, BusinessName: &name, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: p})
	details := []sink.AdDetailRow{{AdFields: sink.AdFields{AdID: 1, VideoURLs: []string{}, ImageURLs: []string{}}}, {AdFields: sink.AdFields{AdID: 9, VideoURLs: []string{}, ImageURLs: []string{}}}}
	if err := sink.WriteParquet(filepath.Join(folder.New(dir).TableDir(sink.AdDetails), "d.parquet"), details); err != nil {
		t.Fatal(err)
	}
	e := open(t, dir)
	for _, tc := range []struct{ query, want string }{
		{`SELECT dataset, field, country_code, "rows", present, share FROM field_completeness WHERE field IN ('business_name', 'video_urls') AND dataset = 'ads'`,
			"ads|video_urls|DE|1|0|0\nads|video_urls|FR|4|2|0.5\nads|business_name|DE|1|1|1\nads|business_name|FR|4|1|0.25"},
		// Details count under each country their ad was found in, and
		// under NULL when it is in none.
		{`SELECT country_code, "rows" FROM field_completeness WHERE dataset = 'ad-details' AND field = 'has_targeting'`, "DE|1\nFR|1\n|1"},
		{`SELECT count(*) FROM field_completeness WHERE field IN ('ad_id', 'country_code', 'search_term', 'fetched_at', 'search_terms', 'shard_ids')`, "0"},
		{`SELECT count(DISTINCT dataset) FROM field_completeness`, "2"},
		{`SELECT typeof("rows") || ' ' || typeof(present) || ' ' || typeof(share) FROM field_completeness LIMIT 1`, "BIGINT BIGINT DOUBLE"},
	} {
		if got := queryString(t, e, tc.query); got != tc.want {
			t.Errorf("%s\ngot  %q\nwant %q", tc.query, got, tc.want)
		}
	}
	// Every column but keys and provenance is a field, in column order: a
	// column added to the table is measured without a change.
	got := queryString(t, e, "SELECT string_agg(DISTINCT field, ',') FROM field_completeness WHERE dataset = 'ads'")
	want := queryString(t, e, "SELECT string_agg(column_name, ',') FROM (DESCRIBE ads) WHERE column_name NOT IN ('ad_id', 'country_code', 'search_term', 'search_type', 'window_start', 'window_end', 'fetched_at', 'run_id', 'shard_id', 'search_terms', 'shard_ids')")
	if sortedCSV(got) != sortedCSV(want) {
		t.Errorf("fields %s\nwant   %s", got, want)
	}
	if got := queryString(t, e, "SELECT field FROM field_completeness WHERE dataset = 'ads' AND country_code = 'FR'"); !strings.HasPrefix(got, "first_shown_date\nlast_shown_date\nstatus\n") {
		t.Errorf("not in column order: %s", got)
	}
}

func sortedCSV(s string) string {
	f := strings.Split(s, ",")
	for i := range f {
		for j := i + 1; j < len(f); j++ {
			if f[j] < f[i] {
				f[i], f[j] = f[j], f[i]
			}
		}
	}
	return strings.Join(f, ",")
}
