package queries

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/rivo/uniseg"
)

// QueryError is a query that DuckDB refused (a syntax error, an unknown
// column): a mistake in the query, not in the folder. Its message is one line
// that keeps the position DuckDB pointed at.
type QueryError struct {
	Query string
	Err   error
}

func (e *QueryError) Error() string { return queryErrorLine(e.Err.Error(), e.Query) }
func (e *QueryError) Unwrap() error { return e.Err }

// Explain returns err as a *QueryError when DuckDB raised it about query, and
// unchanged otherwise.
func Explain(err error, query string) error {
	var de *duckdb.Error
	if err != nil && (errors.As(err, &de) || strings.HasPrefix(err.Error(), "query: ")) {
		return &QueryError{Query: query, Err: err}
	}
	return err
}

// duckPointer matches the end of a DuckDB error message that points at the
// problem: "\n\nLINE 3: WHERE nope = 2\n              ^".
var duckPointer = regexp.MustCompile(`\n*LINE (\d+): ([^\n]*)\n( *)\^\s*$`)

// queryErrorLine rewrites the "LINE n: … ^" pointer of a DuckDB message,
// which needs two lines to mean anything, as "(at line n, column c, near
// "…")", so that the message survives being printed as one line. Column c
// counts characters in the query's line n.
func queryErrorLine(msg, query string) string {
	m := duckPointer.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg
	}
	n, _ := strconv.Atoi(msg[m[2]:m[3]])
	snippet := msg[m[4]:m[5]]
	caret := (m[7] - m[6]) - len("LINE "+msg[m[2]:m[3]]+": ")
	head := strings.TrimSpace(msg[:m[0]])
	off := widthOffset(snippet, caret)

	pos := "line " + strconv.Itoa(n)
	if lines := strings.Split(query, "\n"); n >= 1 && n <= len(lines) {
		// DuckDB shows a window of long lines, between "..." marks.
		shown, lead := snippet, 0
		if strings.HasPrefix(shown, "...") {
			shown, lead = shown[3:], 3
		}
		shown = strings.TrimSuffix(shown, "...")
		if i := strings.Index(lines[n-1], shown); i >= 0 && off >= lead && off-lead <= len(shown) {
			pos += ", column " + strconv.Itoa(utf8.RuneCountInString(lines[n-1][:i+off-lead])+1)
		}
	}
	near := strings.TrimSpace(strings.TrimSuffix(snippet[off:], "..."))
	if utf8.RuneCountInString(near) > 40 {
		near = string([]rune(near)[:40]) + "…"
	}
	if near == "" {
		return head + " (at " + pos + ", at the end)"
	}
	return head + " (at " + pos + ", near \"" + near + "\")"
}

// widthOffset is the byte offset in s of the character at terminal column
// width (DuckDB places its caret by display width).
func widthOffset(s string, width int) int {
	at, state := 0, -1
	for rest := s; len(rest) > 0 && width > 0; {
		cluster, next, w, st := uniseg.FirstGraphemeClusterInString(rest, state)
		at += len(cluster)
		width -= max(w, 1)
		rest, state = next, st
	}
	return at
}
