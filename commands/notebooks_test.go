package commands_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"adharvest/queries"
	"adharvest/tiktok/apitest"
)

// notebookCell is one cell of an .ipynb file (nbformat 4).
type notebookCell struct {
	CellType       string          `json:"cell_type"`
	Source         json.RawMessage `json:"source"`
	Outputs        *[]any          `json:"outputs"`
	ExecutionCount json.RawMessage `json:"execution_count"`
}

type notebook struct {
	Cells         []notebookCell `json:"cells"`
	Metadata      map[string]any `json:"metadata"`
	NBFormat      int            `json:"nbformat"`
	NBFormatMinor int            `json:"nbformat_minor"`
}

// text is a cell's source, which nbformat allows as a string or a list of lines.
func (c notebookCell) text(t *testing.T) string {
	var s string
	if json.Unmarshal(c.Source, &s) == nil {
		return s
	}
	var lines []string
	if err := json.Unmarshal(c.Source, &lines); err != nil {
		t.Fatalf("cell source is neither a string nor a list of strings: %s", c.Source)
	}
	return strings.Join(lines, "")
}

// The notebooks and the least number of SQL statements each must yield, so
// that a change in how they call DuckDB cannot make the test pass vacuously.
var notebookMinSQL = map[string]int{
	"01-overview.ipynb":                  7,
	"02-ad-volume-trends.ipynb":          5,
	"03-advertisers-and-targeting.ipynb": 13,
	"04-commercial-content.ipynb":        8,
}

var (
	literalSQL  = regexp.MustCompile(`(?s)con\.(?:sql|execute)\(\s*"""(.*?)"""`)
	analysisSQL = regexp.MustCompile(`con\.(?:sql|execute)\(\s*analysis\("([a-z0-9-]+)"\)\)`)
	anySQLCall  = regexp.MustCompile(`con\.(?:sql|execute)\(\s*([^\s])`)
)

// loadNotebooks parses every notebooks/*.ipynb and checks its format: nbformat
// 4, code cells committed without outputs or execution counts.
func loadNotebooks(t *testing.T) map[string]notebook {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("..", "notebooks", "*.ipynb"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]notebook{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var nb notebook
		if err := json.Unmarshal(b, &nb); err != nil {
			t.Fatalf("%s is not valid JSON: %v", p, err)
		}
		if nb.NBFormat != 4 || nb.NBFormatMinor < 4 {
			t.Errorf("%s: nbformat %d.%d, want 4.4 or later", p, nb.NBFormat, nb.NBFormatMinor)
		}
		if ks, _ := nb.Metadata["kernelspec"].(map[string]any); ks["language"] != "python" {
			t.Errorf("%s: kernelspec is not Python: %v", p, nb.Metadata["kernelspec"])
		}
		for i, c := range nb.Cells {
			switch c.CellType {
			case "code":
				if c.Outputs == nil || len(*c.Outputs) != 0 {
					t.Errorf("%s cell %d: committed with outputs (clear them: outputs must be [])", p, i)
				}
				if string(c.ExecutionCount) != "null" {
					t.Errorf("%s cell %d: execution_count is %s, want null", p, i, c.ExecutionCount)
				}
			case "markdown", "raw":
				if c.Outputs != nil {
					t.Errorf("%s cell %d: a %s cell has outputs", p, i, c.CellType)
				}
			default:
				t.Errorf("%s cell %d: unknown cell type %q", p, i, c.CellType)
			}
		}
		out[filepath.Base(p)] = nb
	}
	for name := range notebookMinSQL {
		if _, ok := out[name]; !ok {
			t.Errorf("notebooks/%s is missing", name)
		}
	}
	return out
}

// codeCells returns the sources of a notebook's code cells.
func codeCells(t *testing.T, nb notebook) []string {
	var out []string
	for _, c := range nb.Cells {
		if c.CellType == "code" {
			out = append(out, c.text(t))
		}
	}
	return out
}

// notebookSQL extracts the SQL a notebook runs: the triple-quoted literals
// passed to con.sql and con.execute, and the canned analyses it runs by name
// (analysis("NAME")). Any other argument is refused; the loader cell, which
// runs what adharvest prints, is checked by TestNotebookViewLoader instead.
func notebookSQL(t *testing.T, name string, nb notebook) []string {
	t.Helper()
	var stmts []string
	for i, src := range codeCells(t, nb) {
		if i == 1 {
			continue // the loader
		}
		for _, m := range analysisSQL.FindAllStringSubmatch(src, -1) {
			a, ok := queries.LookupAnalysis(m[1])
			if !ok {
				t.Errorf("%s: runs analysis %q, which adharvest does not have", name, m[1])
				continue
			}
			stmts = append(stmts, strings.TrimSpace(a.SQL))
		}
		for _, m := range anySQLCall.FindAllStringSubmatchIndex(src, -1) {
			rest := src[m[2]:]
			if !strings.HasPrefix(rest, `"""`) && !strings.HasPrefix(rest, "analysis(") {
				line := src[m[0]:]
				if i := strings.IndexByte(line, '\n'); i > 0 {
					line = line[:i]
				}
				t.Errorf("%s: SQL that is not a triple-quoted literal (the test cannot check it): %s", name, line)
			}
		}
		for _, m := range literalSQL.FindAllStringSubmatch(src, -1) {
			q := strings.TrimSpace(m[1])
			if strings.Contains(q, "{") && strings.Contains(q, "}") && !strings.Contains(q, ": VARCHAR}") {
				t.Errorf("%s: SQL looks templated (f-string?): %.80s", name, q)
			}
			stmts = append(stmts, q)
		}
	}
	return stmts
}

func TestNotebooksFormat(t *testing.T) {
	nbs := loadNotebooks(t)
	var loader string
	for name, nb := range nbs {
		cells := codeCells(t, nb)
		if len(cells) < 3 {
			t.Fatalf("%s has %d code cells", name, len(cells))
		}
		if !regexp.MustCompile(`(?m)^OUT = "adharvest-demo"`).MatchString(cells[0]) {
			t.Errorf("%s: the first code cell does not set OUT = \"adharvest-demo\": %q", name, cells[0])
		}
		// The view loader is the same cell everywhere, so a fix reaches all.
		if !strings.Contains(cells[1], `"--print-views"`) || !strings.Contains(cells[1], "def analysis(") {
			t.Errorf("%s: the second code cell is not the view loader", name)
		}
		if loader == "" {
			loader = cells[1]
		} else if cells[1] != loader {
			t.Errorf("%s: the view loader differs from the other notebooks'", name)
		}
	}
}

// Every SQL statement of every notebook runs against a real harvest's views
// (the same views, from the same .sql files, as the notebooks load), and
// every SELECT finds rows: the harvest has every dataset.
func TestNotebookSQLRunsOnAHarvest(t *testing.T) {
	nbs := loadNotebooks(t)
	dir := harvestForAnalysis(t, apitest.Options{Quirks: true}, 0)
	ctx := context.Background()
	eng, err := queries.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	for name, nb := range nbs {
		stmts := notebookSQL(t, name, nb)
		if min := notebookMinSQL[name]; len(stmts) < min {
			t.Errorf("%s: found %d SQL statements, want at least %d", name, len(stmts), min)
		}
		for _, q := range stmts {
			n, err := countRows(ctx, eng.DB(), q)
			if err != nil {
				t.Errorf("%s: SQL fails: %v\n%s", name, err, q)
				continue
			}
			if n == 0 && !strings.HasPrefix(strings.ToUpper(q), "SET ") {
				t.Errorf("%s: SQL returns no row on a harvest of every dataset:\n%s", name, q)
			}
		}
	}
}

func countRows(ctx context.Context, db *sql.DB, q string) (int, error) {
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// The loader cell, run by Python with a stand-in duckdb module that records
// what it is asked to execute and a stand-in adharvest that answers
// --print-views, must run exactly the views that adharvest prints for the
// folder, and that script must give the same tables in a fresh DuckDB. Every
// code cell must also be valid Python. Skipped where there is no python3.
func TestNotebookViewLoader(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: the loader is not executed")
	}
	nbs := loadNotebooks(t)
	nb, ok := nbs["01-overview.ipynb"]
	if !ok {
		t.Fatal("no 01-overview.ipynb")
	}
	loader := codeCells(t, nb)[1]
	dir := harvestForAnalysis(t, apitest.Options{Quirks: true}, 0)
	abs, _ := filepath.Abs(dir)
	views, err := queries.Views(abs)
	if err != nil {
		t.Fatal(err)
	}

	stub := t.TempDir()
	record := filepath.Join(stub, "calls.json")
	writeFile(t, filepath.Join(stub, "duckdb.py"), `import atexit, json, os
CALLS = []
class _Rel:
    def fetchone(self): return (0,)
    def fetchall(self): return []
class _Con:
    def execute(self, sql, *args):
        CALLS.append(sql)
        return _Rel()
    sql = execute
def connect(*args, **kwargs):
    return _Con()
atexit.register(lambda: json.dump(CALLS, open(os.environ["STUB_CALLS"], "w")))
`)
	// The stand-in adharvest prints the views only when asked exactly so.
	writeFile(t, filepath.Join(stub, "views.sql"), views)
	writeFile(t, filepath.Join(stub, "adharvest"), "#!/bin/sh\n"+
		`[ "$1 $2 $3 $4" = "sql --out `+abs+` --print-views" ] || { echo "unexpected arguments: $*" >&2; exit 2; }`+"\n"+
		"cat "+filepath.Join(stub, "views.sql")+"\n")
	if err := os.Chmod(filepath.Join(stub, "adharvest"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Every code cell must parse as Python (cells are not run: no pandas here).
	var cells []string
	for _, nb := range nbs {
		cells = append(cells, codeCells(t, nb)...)
	}
	cellsJSON, _ := json.Marshal(cells)
	writeFile(t, filepath.Join(stub, "cells.json"), string(cellsJSON))
	script := "import ast, json\nfor i, c in enumerate(json.load(open(" + pyString(filepath.Join(stub, "cells.json")) + "))):\n    ast.parse(c, 'cell %d' % i)\n" +
		"OUT = " + pyString(dir) + "\n" + loader + "\n" +
		"assert analysis('reported-vs-harvested').startswith('-- name: reported-vs-harvested')\n"
	writeFile(t, filepath.Join(stub, "run.py"), script)
	cmd := exec.Command(python, filepath.Join(stub, "run.py"))
	cmd.Dir = filepath.Join("..", "notebooks") // as Jupyter runs it: the notebook's folder
	cmd.Env = append(os.Environ(), "PYTHONPATH="+stub, "STUB_CALLS="+record, "PYTHONDONTWRITEBYTECODE=1", "ADHARVEST="+filepath.Join(stub, "adharvest"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("loader cell fails in Python: %v\n%s", err, out)
	}
	var calls []string
	b, err := os.ReadFile(record)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &calls); err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, c := range calls {
		if c == views {
			ran++
		}
	}
	if ran != 1 {
		t.Fatalf("the loader ran adharvest's printed views %d times, want once; it ran:\n%.400q", ran, calls)
	}

	// And the printed views give the same data in a fresh DuckDB.
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(views); err != nil {
		t.Fatalf("printed views fail: %v", err)
	}
	eng, err := queries.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	tables := 0
	for _, part := range strings.Split(views, "\n-- views/")[1:] {
		name, _, _ := strings.Cut(part, "\n")
		// "ad_observations.sql (no data yet under …)" for a table without
		// files yet: its view still reads the others (ads_all).
		name, _, _ = strings.Cut(name, " ")
		table := strings.TrimSuffix(name, ".sql")
		tables++
		var a, b int
		q := "SELECT count(*) FROM " + table
		if err := db.QueryRow(q).Scan(&a); err != nil {
			t.Fatal(err)
		}
		if err := eng.DB().QueryRow(q).Scan(&b); err != nil {
			t.Fatal(err)
		}
		// A table without files yet may still be empty; its view must work.
		if a != b || (a == 0 && !strings.Contains(part, "(no data yet")) {
			t.Errorf("%s: %d rows through the printed views, %d through adharvest's", table, a, b)
		}
	}
	if tables < 9 {
		t.Errorf("the printed views hold %d tables", tables)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pyString is s as a Python string literal.
func pyString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
