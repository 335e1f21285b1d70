package queries

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"text/template"

	"adharvest/folder"
	"adharvest/sink"
)

//go:embed views/*.sql
var viewFiles embed.FS

// viewFile is one parsed views/<table>.sql.
type viewFile struct {
	table sink.Table
	name  string // "views/ads.sql"
	tmpl  *template.Template
}

// sourceFunc returns the SQL that reads a table's rows, in place of
// {{source "<table>"}}.
type sourceFunc func(t sink.Table) (string, error)

// loadViews parses the embedded view files in sink.Tables order. Every table
// needs exactly one file and every file needs a table.
func loadViews() ([]viewFile, error) {
	names, err := fs.Glob(viewFiles, "views/*.sql")
	if err != nil {
		return nil, err
	}
	byTable := make(map[string]string, len(names))
	for _, n := range names {
		table := strings.TrimSuffix(path.Base(n), ".sql")
		if _, ok := sink.Lookup(table); !ok {
			return nil, fmt.Errorf("%s: there is no table %q in sink.Tables", n, table)
		}
		byTable[table] = n
	}
	files := make([]viewFile, 0, len(sink.Tables))
	for _, t := range sink.Tables {
		n, ok := byTable[t.Name]
		if !ok {
			return nil, fmt.Errorf("table %s has no view definition views/%s.sql", t.Name, t.Name)
		}
		text, err := fs.ReadFile(viewFiles, n)
		if err != nil {
			return nil, err
		}
		// The functions are placeholders at parse time; render binds them.
		tmpl, err := template.New(n).Option("missingkey=error").Funcs(template.FuncMap{
			"source": func(string) (string, error) { return "", nil },
			"key":    func(string) (string, error) { return "", nil },
			"has":    func(string) (bool, error) { return false, nil },
		}).Parse(string(text))
		if err != nil {
			return nil, fmt.Errorf("parse %w", err)
		}
		files = append(files, viewFile{table: t, name: n, tmpl: tmpl})
	}
	return files, nil
}

// render expands the placeholders of one view file. {{has "<table>"}} is
// whether the table has files, for a view that can skip the work a table
// without rows would cost (the script reflects the folder as it is, as the
// empty placeholders do).
func (v viewFile) render(source sourceFunc, has func(table string) bool) (string, error) {
	lookup := func(name string) (sink.Table, error) {
		t, ok := sink.Lookup(name)
		if !ok {
			return sink.Table{}, fmt.Errorf("no table %q in sink.Tables", name)
		}
		return t, nil
	}
	tmpl, err := v.tmpl.Clone()
	if err != nil {
		return "", err
	}
	tmpl.Funcs(template.FuncMap{
		"source": func(name string) (string, error) {
			t, err := lookup(name)
			if err != nil {
				return "", err
			}
			return source(t)
		},
		"has": func(name string) (bool, error) {
			if _, err := lookup(name); err != nil {
				return false, err
			}
			return has(name), nil
		},
		"key": func(name string) (string, error) {
			t, err := lookup(name)
			if err != nil {
				return "", err
			}
			if len(t.Key) == 0 {
				return "", fmt.Errorf("table %s has no key columns", name)
			}
			cols := make([]string, len(t.Key))
			for i, c := range t.Key {
				cols[i] = quoteIdent(c)
			}
			return strings.Join(cols, ", "), nil
		},
	})
	var b bytes.Buffer
	if err := tmpl.Execute(&b, nil); err != nil {
		return "", err
	}
	return b.String(), nil
}

// readParquet is the relation that reads the committed files of table t
// under root, for {{source}}.
//
// root is a name, never a pattern: folder.DuckDBGlob escapes it. Hive
// partitioning is off, because DuckDB's reads every key=value segment of the
// whole path, not just those below the table folder: under an output folder inside "country_code=ZZ/" every ad
// would read ZZ (the first segment wins), a stored column of the same name
// (ad_reports.country_code) would be overwritten, and a "foo=bar/" segment
// would add a column foo to every table. Partitioned tables instead take
// their partition column, always a VARCHAR, from the name of the folder each
// file is in, which the pattern fixes to be <table>/<partition>=<value>/: the
// value is read from the file's own path relative to the table folder and
// from nowhere else. DuckDB still evaluates a filter on that column against
// each file name before opening the file, so "WHERE country_code = 'DE'"
// reads only the DE files, as with Hive partitioning.
//
// The result is either a read_parquet call or a subquery, usable after FROM
// in any DuckDB client.
func readParquet(root string, t sink.Table) string {
	pattern, exact := folder.DuckDBGlob(root, t)
	call := "read_parquet(" + quoteLiteral(pattern) + ", hive_partitioning = false, union_by_name = true"
	if t.Partition == "" && exact {
		return call + ")"
	}
	var b strings.Builder
	b.WriteString("(SELECT * EXCLUDE (filename)")
	if t.Partition != "" {
		fmt.Fprintf(&b, ", %s AS %s", partitionValue(t.Partition), quoteIdent(t.Partition))
	}
	b.WriteString(" FROM ")
	b.WriteString(call)
	b.WriteString(", filename = true)")
	if !exact {
		// The pattern also matches siblings that differ from root in a
		// character it could not spell: keep this folder's files only.
		b.WriteString(" WHERE starts_with(filename, ")
		b.WriteString(quoteLiteral(folder.New(root).TableDir(t) + string(filepath.Separator)))
		b.WriteString(")")
	}
	b.WriteString(")")
	return b.String()
}

// partitionValue is the SQL expression of a partition column's value: the
// name of the folder a file is in, after "<key>=" (the pattern matches no
// other folder names there). Plain string functions, not a regular
// expression: DuckDB evaluates a filter on the column once per file, to
// prune files, and over 2,000 files regexp_extract made a one-country query
// about 60 ms slower than Hive partitioning, where these functions cost
// nothing measurable (BenchmarkTwoThousandParts).
func partitionValue(key string) string {
	name := "filename"
	if filepath.Separator == '\\' {
		name = `replace(filename, '\', '/')` // Windows: either separator
	}
	return fmt.Sprintf("substr(string_split(%s, '/')[-2], %d)", name, len(key)+2)
}

// Views returns the CREATE VIEW statements of every table as one SQL script for
// any DuckDB client, reading the output folder dir (used as given: pass an
// absolute path if the script will run from another working directory).
// It is ViewsWith with no options.
func Views(dir string) (string, error) {
	return ViewsWith(dir, ViewsOptions{})
}

// ViewsOptions adjust ViewsWith.
type ViewsOptions struct {
	// Relative writes every path relative to the output folder
	// ("ads/country_code=*/*.parquet") instead of under dir. DuckDB resolves
	// such paths when a view is queried, against its working directory (or
	// the folders of its file_search_path setting): the script then works
	// wherever the folder is moved or copied, from a DuckDB started inside
	// the folder. The script does not name dir at all.
	Relative bool
}

// ViewsWith returns the CREATE VIEW statements of every table, and of
// field_completeness, as one SQL script for any DuckDB client, reading the
// output folder dir (used as given unless opts.Relative).
//
// Tables that have no committed file yet get a typed empty SELECT in place of
// read_parquet (DuckDB refuses to create a view over a glob that matches
// nothing), so the script reflects the folder at the time it is printed: print
// it again once such a table has data. ViewsWith opens an Engine on dir to
// work out those types, so dir must exist.
func ViewsWith(dir string, opts ViewsOptions) (string, error) {
	ctx := context.Background()
	e, err := Open(ctx, dir)
	if err != nil {
		return "", err
	}
	defer e.Close()
	root := dir
	if opts.Relative {
		root = "."
	}
	return e.script(root, opts.Relative)
}

// script renders all view files for an outside client reading root.
func (e *Engine) script(root string, relative bool) (string, error) {
	var b strings.Builder
	if relative {
		b.WriteString("-- adharvest views over the harvest folder they were printed from, by paths relative to it:\n")
		b.WriteString("-- run DuckDB from inside that folder (cd DIR && duckdb -init views.sql), or SET file_search_path to it first.\n")
	} else {
		b.WriteString("-- adharvest views over ")
		b.WriteString(commentText(root))
		b.WriteString("\n")
	}
	b.WriteString("-- Generated by adharvest from its embedded views/*.sql; run in any DuckDB client.\n")
	if len(e.empty) > 0 {
		b.WriteString("-- Tables without data yet are typed empty placeholders: print the views again once they have data.\n")
	}
	source := func(t sink.Table) (string, error) {
		if q, ok := e.empty[t.Name]; ok {
			return q, nil
		}
		return readParquet(root, t), nil
	}
	for _, v := range e.views {
		sqlText, err := v.render(source, e.has)
		if err != nil {
			return "", fmt.Errorf("%s: %w", v.name, err)
		}
		fmt.Fprintf(&b, "\n-- %s", v.name)
		if _, ok := e.empty[v.table.Name]; ok {
			fmt.Fprintf(&b, " (no data yet under %s: typed empty placeholder)", commentText(folder.New(root).TableDir(v.table)))
		}
		b.WriteString("\n")
		b.WriteString(strings.TrimSpace(sqlText))
		b.WriteString("\n")
	}
	names := make([]string, len(completenessTables))
	for i, ct := range completenessTables {
		names[i] = ct.table.Name
	}
	fmt.Fprintf(&b, "\n-- %s: generated from the columns of %s\n", CompletenessView, strings.Join(names, ", "))
	b.WriteString(e.completeness)
	return b.String(), nil
}

// has reports whether table has files (no empty placeholder stands for it).
func (e *Engine) has(table string) bool {
	_, empty := e.empty[table]
	return !empty
}

// emptySelect is a subquery with no rows and exactly the columns and types
// that readParquet gives over table t's empty placeholder file under tmp.
func (e *Engine) emptySelect(ctx context.Context, tmp string, t sink.Table) (string, error) {
	rows, err := e.db.QueryContext(ctx, "DESCRIBE SELECT * FROM "+readParquet(tmp, t))
	if err != nil {
		return "", fmt.Errorf("describe empty %s: %w", t.Name, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return "", err
	}
	var cells []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		// DESCRIBE: column_name, column_type, null, key, default, extra.
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		cells = append(cells, "CAST(NULL AS "+typ+") AS "+quoteIdent(name))
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if len(cells) == 0 {
		return "", fmt.Errorf("describe empty %s: no columns", t.Name)
	}
	return "(\n    SELECT\n        " + strings.Join(cells, ",\n        ") + "\n    WHERE false\n)", nil
}

// commentText makes s safe inside a "--" comment, which a line break would
// end: a folder may be called "x\nDROP TABLE …". Control characters are
// escaped as in a table cell.
func commentText(s string) string { return escapeControls(s) }

// quoteLiteral is s as a SQL string literal.
func quoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// quoteIdent is s as a SQL quoted identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
