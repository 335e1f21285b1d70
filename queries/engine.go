package queries

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" database/sql driver

	"adharvest/folder"
	"adharvest/sink"
)

// Engine is an in-memory DuckDB database with the views of one output folder.
// It is safe for concurrent use, like the *sql.DB it wraps.
type Engine struct {
	db    *sql.DB
	dir   string          // absolute output folder
	tmp   string          // private folder of empty placeholder files, or ""
	empty map[string]bool // tables whose views read a placeholder
	views []viewFile
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

	e := &Engine{dir: abs, empty: map[string]bool{}, views: views}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	roots := map[string]string{}
	for _, t := range sink.Tables {
		files, err := filepath.Glob(folder.Glob(abs, t))
		if err != nil {
			return nil, fmt.Errorf("list %s files: %w", t.Name, err)
		}
		if len(files) > 0 {
			roots[t.Name] = abs
			continue
		}
		if e.tmp == "" {
			if e.tmp, err = os.MkdirTemp("", "adharvest-views-"); err != nil {
				return nil, fmt.Errorf("placeholder folder: %w", err)
			}
		}
		// "XX" is never a real value, and with no rows it is never seen.
		if err := t.WriteEmpty(filepath.Join(folder.New(e.tmp).PartitionDir(t, "XX"), "empty.parquet")); err != nil {
			return nil, fmt.Errorf("placeholder for %s: %w", t.Name, err)
		}
		roots[t.Name] = e.tmp
		e.empty[t.Name] = true
	}

	if e.db, err = sql.Open("duckdb", ""); err != nil {
		return nil, fmt.Errorf("start duckdb: %w", err)
	}
	// Best effort: the setting only exists when DuckDB's ICU extension is
	// built in (it is in duckdb-go's bundled library). Write renders times
	// in UTC whatever the session time zone.
	e.db.ExecContext(ctx, "SET GLOBAL TimeZone = 'UTC'")
	source := func(t sink.Table) (string, error) {
		root, ok := roots[t.Name]
		if !ok {
			return "", fmt.Errorf("no table %q", t.Name)
		}
		return readParquet(root, t), nil
	}
	for _, v := range views {
		script, err := v.render(source)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.name, err)
		}
		if _, err := e.db.ExecContext(ctx, script); err != nil {
			return nil, fmt.Errorf("%s: %w", v.name, err)
		}
	}
	return e, nil
}

// DB is the underlying database, for callers that need more than Query (for
// example a dedicated *sql.Conn, so that SET statements stick to one session).
func (e *Engine) DB() *sql.DB { return e.db }

// Dir is the absolute output folder the views read.
func (e *Engine) Dir() string { return e.dir }

// Close closes the database and removes the placeholder files.
func (e *Engine) Close() error {
	var errs []error
	if e.db != nil {
		errs = append(errs, e.db.Close())
		e.db = nil
	}
	if e.tmp != "" {
		errs = append(errs, os.RemoveAll(e.tmp))
		e.tmp = ""
	}
	return errors.Join(errs...)
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
