package queries

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/duckdb/duckdb-go/v2" // also registers the "duckdb" database/sql driver

	"adharvest/folder"
	"adharvest/internal/failpoint"
	"adharvest/sink"
)

// Engine is an in-memory DuckDB database with the views of one output folder.
// It is safe for concurrent use, like the *sql.DB it wraps.
type Engine struct {
	db  *sql.DB
	dir string // absolute output folder
	// empty holds, for each table without a committed file, the typed empty
	// SELECT that its views read instead.
	empty map[string]string
	views []viewFile
	// completeness creates the field_completeness view (completenessSQL).
	completeness string
}

// missingDirError reports an output folder that does not exist.
type missingDirError struct{ dir string }

func (e missingDirError) Error() string {
	return "output folder " + e.dir + " does not exist"
}

func (e missingDirError) Unwrap() error { return fs.ErrNotExist }

// Open starts an in-memory DuckDB and creates the views of every table in
// sink.Tables over the output folder dir (see the package documentation). A
// missing dir is an error (errors.Is(err, fs.ErrNotExist)); a dir without data
// is not: its views are empty. The session time zone is UTC, so that casts
// and date_trunc of TIMESTAMPTZ columns give the same answer on every machine.
func Open(ctx context.Context, dir string) (_ *Engine, err error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("output folder %s: %w", dir, err)
	}
	info, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, missingDirError{dir}
	case err != nil:
		return nil, fmt.Errorf("output folder: %w", err)
	case !info.IsDir():
		return nil, fmt.Errorf("output folder %s is not a directory", dir)
	}
	views, err := loadViews()
	if err != nil {
		return nil, err
	}

	e := &Engine{dir: abs, empty: map[string]string{}, views: views}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	var empty []sink.Table
	for _, t := range sink.Tables {
		files, err := filepath.Glob(folder.Glob(abs, t))
		if err != nil {
			return nil, fmt.Errorf("list %s files: %w", t.Name, err)
		}
		if len(files) == 0 {
			empty = append(empty, t)
		}
	}

	if e.db, err = sql.Open("duckdb", ""); err != nil {
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	// Best effort: the setting only exists when DuckDB's ICU extension is
	// built in (it is in duckdb-go's bundled library). Write renders times
	// in UTC whatever the session time zone.
	e.db.ExecContext(ctx, "SET GLOBAL TimeZone = 'UTC'")
	if err := e.placeholders(ctx, empty); err != nil {
		return nil, err
	}
	source := func(t sink.Table) (string, error) {
		if q, ok := e.empty[t.Name]; ok {
			return q, nil
		}
		return readParquet(abs, t), nil
	}
	for _, v := range views {
		script, err := v.render(source, e.has)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.name, err)
		}
		if _, err := e.db.ExecContext(ctx, script); err != nil {
			return nil, fmt.Errorf("%s: %w", v.name, err)
		}
	}
	if e.completeness, err = e.completenessSQL(ctx); err != nil {
		return nil, err
	}
	if _, err := e.db.ExecContext(ctx, e.completeness); err != nil {
		return nil, fmt.Errorf("%s: %w", CompletenessView, err)
	}
	return e, nil
}

// DB is the underlying database, for callers that need more than Query (for
// example a dedicated *sql.Conn, so that SET statements stick to one session).
func (e *Engine) DB() *sql.DB { return e.db }

// Dir is the absolute output folder the views read.
func (e *Engine) Dir() string { return e.dir }

// Close closes the database.
func (e *Engine) Close() error {
	if e.db == nil {
		return nil
	}
	err := e.db.Close()
	e.db = nil
	return err
}

// viewsPrefix starts the name of the private folder, in the system temporary
// directory, where Open writes placeholder files.
const viewsPrefix = "adharvest-views-"

// placeholderPoint is the failpoint (see internal/failpoint) passed after
// each placeholder file is written, so that tests can kill the process while
// the folder exists.
const placeholderPoint = "views-placeholder"

// placeholders sets e.empty for every table in tables, which have no
// committed file: the typed empty SELECT that DESCRIBE gives over a 0-row
// file with the table's schema and layout (sink.Table.WriteEmpty), so that
// the views have exactly the columns and types that real files would give.
// The files live in a private folder of the system temporary directory only
// while Open runs, which removes it before returning; a process killed in
// that moment leaves it behind, and the next Open removes it (see
// sweepLeftovers).
func (e *Engine) placeholders(ctx context.Context, tables []sink.Table) (err error) {
	if len(tables) == 0 {
		return nil
	}
	sweepLeftovers(os.TempDir(), viewsPrefix)
	tmp, err := os.MkdirTemp("", tempPattern(viewsPrefix))
	if err != nil {
		return fmt.Errorf("placeholder folder: %w", err)
	}
	defer func() {
		if rerr := os.RemoveAll(tmp); err == nil && rerr != nil {
			err = fmt.Errorf("placeholder folder: %w", rerr)
		}
	}()
	for _, t := range tables {
		// "XX" is never a real value, and with no rows it is never seen.
		if err := t.WriteEmpty(filepath.Join(folder.New(tmp).PartitionDir(t, "XX"), "empty.parquet")); err != nil {
			return fmt.Errorf("placeholder for %s: %w", t.Name, err)
		}
		if err := failpoint.Hit(placeholderPoint); err != nil {
			return err
		}
	}
	for _, t := range tables {
		if e.empty[t.Name], err = e.emptySelect(ctx, tmp, t); err != nil {
			return err
		}
	}
	return nil
}

// Query runs any statement (or several separated by semicolons; the rows are
// those of the last one). Errors carry DuckDB's own message, including the
// "LINE 1: … ^" pointer to where the problem is, prefixed with "query: ".
func (e *Engine) Query(ctx context.Context, query string) (*sql.Rows, error) {
	if e.db == nil {
		return nil, errors.New("query: engine is closed")
	}
	rows, err := e.db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("query: %w", err)
	}
	return rows, nil
}

// RunScript runs the statements of script (see SplitStatements) one after
// another on one connection, so that SET, temporary tables and macros carry
// over from one statement to the next, and calls result with the rows of
// each statement whose result is shown; n counts those from 0 (to write a
// separator before every result but the first). result must read rows to the
// end (Write does); they are closed after it returns.
//
// A statement's result is shown when the statement returns rows: a query
// (SELECT, WITH, FROM, VALUES, TABLE, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN,
// PRAGMA, CALL…) or an INSERT, UPDATE or DELETE with RETURNING. Statements
// that prepare or change something (SET, CREATE, INSERT, COPY, ATTACH…)
// show nothing, unless no statement of the script shows anything: the last
// one's result (CREATE's or INSERT's count) is then shown, as Query would.
//
// The first error ends the script. DuckDB's "LINE n" in it counts lines of
// script, not of the statement, so that Explain(err, script) points at the
// right place.
func (e *Engine) RunScript(ctx context.Context, script string, result func(n int, rows *sql.Rows) error) error {
	if e.db == nil {
		return errors.New("query: engine is closed")
	}
	stmts := SplitStatements(script)
	if len(stmts) == 0 {
		return errors.New("query: no statement")
	}
	conn, err := e.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("query: %w", err)
	}
	defer conn.Close()
	shown, pos := 0, 0
	for i, stmt := range stmts {
		start := pos
		if at := strings.Index(script[pos:], stmt); at >= 0 {
			start += at
		}
		pos = min(start+len(stmt), len(script))
		query := placeAt(script[:start], stmt)
		show := i == len(stmts)-1 && shown == 0
		dml := false
		if !show {
			switch typ, err := statementType(ctx, conn, query); {
			case err != nil:
				show = true // executing it says what is wrong
			case typ == duckdb.STATEMENT_TYPE_INSERT, typ == duckdb.STATEMENT_TYPE_UPDATE, typ == duckdb.STATEMENT_TYPE_DELETE:
				dml = true
			default:
				show = returnsRows(typ)
			}
		}
		if !show && !dml {
			if _, err := conn.ExecContext(ctx, query); err != nil {
				return fmt.Errorf("query: %w", err)
			}
			continue
		}
		rows, err := conn.QueryContext(ctx, query)
		if err != nil {
			return fmt.Errorf("query: %w", err)
		}
		if dml {
			// Shown with RETURNING only: otherwise its one column is the
			// count of rows changed.
			cols, err := rows.Columns()
			if err == nil && len(cols) == 1 && cols[0] == "Count" {
				for rows.Next() {
				}
				err = rows.Err()
				if cerr := rows.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return fmt.Errorf("query: %w", err)
				}
				continue
			}
		}
		err = result(shown, rows)
		if cerr := rows.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("query: %w", cerr)
		}
		if err != nil {
			return err
		}
		shown++
	}
	return nil
}

// placeAt is stmt preceded by as many line breaks as the text before it in
// its script, so that DuckDB's LINE numbers count lines of the script (its
// snippet of the line is then found in the script's line, which gives the
// column: see queryErrorLine).
func placeAt(before, stmt string) string {
	return strings.Repeat("\n", strings.Count(before, "\n")) + stmt
}

// statementType asks DuckDB what kind of statement query is, by preparing it.
func statementType(ctx context.Context, conn *sql.Conn, query string) (duckdb.StmtType, error) {
	typ := duckdb.STATEMENT_TYPE_INVALID
	err := conn.Raw(func(dc any) error {
		p, ok := dc.(driver.ConnPrepareContext)
		if !ok {
			return errors.New("the driver cannot prepare")
		}
		st, err := p.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer st.Close()
		ds, ok := st.(*duckdb.Stmt)
		if !ok {
			return errors.New("not a DuckDB statement")
		}
		typ, err = ds.StatementType()
		return err
	})
	return typ, err
}

// returnsRows reports whether statements of type typ return rows worth
// showing (INSERT, UPDATE and DELETE are decided by their columns).
func returnsRows(typ duckdb.StmtType) bool {
	switch typ {
	case duckdb.STATEMENT_TYPE_CREATE, duckdb.STATEMENT_TYPE_DROP, duckdb.STATEMENT_TYPE_ALTER,
		duckdb.STATEMENT_TYPE_SET, duckdb.STATEMENT_TYPE_VARIABLE_SET, duckdb.STATEMENT_TYPE_TRANSACTION,
		duckdb.STATEMENT_TYPE_COPY, duckdb.STATEMENT_TYPE_ATTACH, duckdb.STATEMENT_TYPE_DETACH,
		duckdb.STATEMENT_TYPE_LOAD, duckdb.STATEMENT_TYPE_PREPARE, duckdb.STATEMENT_TYPE_CREATE_FUNC,
		duckdb.STATEMENT_TYPE_VACUUM, duckdb.STATEMENT_TYPE_ANALYZE, duckdb.STATEMENT_TYPE_EXTENSION,
		duckdb.STATEMENT_TYPE_EXPORT:
		return false
	}
	return true
}
