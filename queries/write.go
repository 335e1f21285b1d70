package queries

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// Formats are the output formats Write accepts.
var Formats = []string{"table", "csv", "json"}

// Table output limits: cells wider than tableCellWidth terminal columns are cut
// with "…", and only the first tableRowLimit rows are shown (the rest are
// counted). CSV and JSON are never cut.
const tableCellWidth = 60

var tableRowLimit = 10_000 // a variable so that tests can lower it

// Write reads rows to the end, writes them to w in format ("table", "csv" or
// "json") and closes rows.
//
//   - table: aligned columns for a terminal, with a header, a separator line
//     and a "(N rows)" footer. NULL is shown as NULL, numbers are right-aligned,
//     control characters are escaped (\n, \t, \xHH), long cells are cut to
//     about 60 columns with "…", and rows past the first 10,000 are counted but
//     not shown.
//   - csv: RFC 4180 as written by encoding/csv (LF line ends), a header row,
//     and a single quote before text that spreadsheets would run as a
//     formula (see WriteOptions.RawCSV). NULL is an empty field and empty
//     text is a quoted empty field (""), so that readers that look at
//     quotes can tell them apart; WriteOptions.CSVNull writes NULL as a
//     marker instead, for readers that do not.
//   - json: one array of objects, one object per line, members in column
//     order (a repeated column name gets a _1, _2… suffix). Integers of any size
//     and decimals are JSON numbers written exactly (or, with
//     WriteOptions.JSONBigIntAsString, those of 64 bits and more as strings),
//     dates "YYYY-MM-DD", timestamps RFC 3339 in UTC, lists arrays, structs
//     and maps objects, NULL null; NaN and infinities, which JSON cannot
//     represent, become null.
//
// In table and CSV cells, scalars are written as in JSON but unquoted, and
// nested values (lists, structs, maps) as JSON text. CSV and JSON rows are
// written as they are scanned, so results of any size stream in constant
// memory.
func Write(w io.Writer, format string, rows *sql.Rows) (err error) {
	return WriteWith(w, format, rows, WriteOptions{})
}

// WriteOptions adjust Write.
type WriteOptions struct {
	// RawCSV writes every CSV cell exactly as its value. Without it, a text
	// cell that starts with "=", "+", "-", "@", a tab or a carriage return
	// gets a leading single quote: CSV is mostly opened in spreadsheets,
	// which run such a cell as a formula, and advertiser names, ad texts and
	// search terms come from strangers ("=HYPERLINK(…)" sends whoever
	// clicks it, with the row's data, to the author's server). This is
	// OWASP's advice for CSV injection. Only text values (VARCHAR, ENUM,
	// BLOB) are touched: a negative number, date or interval is data, and
	// spreadsheets read it as such.
	RawCSV bool

	// CSVNull is the cell written for NULL in CSV. By default ("") NULL is
	// an empty field, and empty text, which is not NULL (search_type '' is
	// the API's default search type), is written quoted as "". Readers that
	// look at the quotes keep them apart (DuckDB's read_csv with
	// allow_quoted_nulls = false, PostgreSQL's COPY, Python's csv module
	// with QUOTE_NOTNULL from 3.12); readers that do not (pandas, a
	// spreadsheet) read both as missing. A marker such as \N makes NULL
	// visible to those: pandas then reads the file right with
	// keep_default_na=False, na_values=[r"\N"]. A text cell that equals the
	// marker is quoted, so that it still differs for readers that look at
	// quotes. The marker must be valid (see CheckCSVNull).
	CSVNull string

	// JSONBigIntAsString writes every BIGINT, UBIGINT, HUGEINT, UHUGEINT
	// and BIGNUM value in JSON, inside lists, structs and maps too, as a
	// string of its digits ("7057157514558702338") instead of a number.
	// The numbers are exact either way, but many readers parse every JSON
	// number as a 64-bit float and round integers above 2^53: JavaScript's
	// JSON.parse, jq before 1.7, and spreadsheet and BI importers. ids (ad
	// ids, business ids) are such integers; so are counts, whose type is
	// BIGINT too. INTEGER and smaller types stay numbers.
	JSONBigIntAsString bool
}

// CheckCSVNull reports whether s can mark NULL in CSV (WriteOptions.CSVNull):
// a marker that would need quotes (a comma, a double quote, a line break,
// a leading space) could not be told from text.
func CheckCSVNull(s string) error {
	if csvNeedsQuotes(s) {
		return fmt.Errorf("the CSV NULL marker %q needs quotes (it holds a comma, a double quote or a line break, or starts with a space): pick another, such as \\N or NULL", s)
	}
	return nil
}

// WriteWith is Write with options.
func WriteWith(w io.Writer, format string, rows *sql.Rows, opts WriteOptions) (err error) {
	defer func() {
		if cerr := rows.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	var write func(io.Writer, []column, *scanner) error
	switch format {
	case "table":
		write = writeTable
	case "csv":
		if err := CheckCSVNull(opts.CSVNull); err != nil {
			return err
		}
		write = func(w io.Writer, cols []column, s *scanner) error { return writeCSV(w, cols, s, opts) }
	case "json":
		write = func(w io.Writer, cols []column, s *scanner) error {
			return writeJSON(w, cols, s, jsonOptions{bigintStrings: opts.JSONBigIntAsString})
		}
	default:
		return fmt.Errorf("unknown output format %q (valid: %s)", format, strings.Join(Formats, ", "))
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return err
	}
	cols := make([]column, len(types))
	for i, ct := range types {
		cols[i] = column{name: ct.Name(), typ: parseType(ct.DatabaseTypeName())}
	}
	s := &scanner{rows: rows, vals: make([]any, len(cols)), ptrs: make([]any, len(cols))}
	for i := range s.vals {
		s.ptrs[i] = &s.vals[i]
	}
	return write(w, cols, s)
}

type column struct {
	name string
	typ  *dtype // nil when the type name was not understood
}

// scanner scans each row into vals.
type scanner struct {
	rows *sql.Rows
	vals []any
	ptrs []any
}

func (s *scanner) next() (bool, error) {
	if !s.rows.Next() {
		return false, s.rows.Err()
	}
	clear(s.vals)
	if err := s.rows.Scan(s.ptrs...); err != nil {
		return false, err
	}
	return true, nil
}

// writeCSV writes the CSV format: text cells that a spreadsheet would take
// for a formula are neutralised unless opts.RawCSV, NULL is opts.CSVNull
// and empty text is "" (see WriteOptions). The header is the query's column
// names, not data, and is written as it is.
func writeCSV(w io.Writer, cols []column, s *scanner, opts WriteOptions) error {
	bw := bufio.NewWriter(w)
	record := make([]string, len(cols))
	quote := make([]bool, len(cols))
	for i, c := range cols {
		record[i] = c.name
	}
	writeCSVRecord(bw, record, quote)
	for {
		ok, err := s.next()
		if err != nil {
			bw.Flush()
			return err
		}
		if !ok {
			break
		}
		for i, v := range s.vals {
			if v == nil {
				record[i], quote[i] = opts.CSVNull, false
				continue
			}
			record[i] = text(v, cols[i].typ)
			quote[i] = false
			if !isText(v, cols[i].typ) {
				continue
			}
			if !opts.RawCSV && formulaLike(record[i]) {
				record[i] = "'" + record[i]
			}
			// Text that a reader could take for NULL: empty, or the marker.
			quote[i] = record[i] == "" || record[i] == opts.CSVNull
		}
		if err := writeCSVRecord(bw, record, quote); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writeCSVRecord writes one record as encoding/csv does (quotes where a
// field needs them, doubled inside, LF line ends), and also quotes the
// fields marked in quote.
func writeCSVRecord(w *bufio.Writer, record []string, quote []bool) error {
	for i, field := range record {
		if i > 0 {
			w.WriteByte(',')
		}
		if !quote[i] && !csvNeedsQuotes(field) {
			w.WriteString(field)
			continue
		}
		w.WriteByte('"')
		w.WriteString(strings.ReplaceAll(field, `"`, `""`))
		w.WriteByte('"')
	}
	return w.WriteByte('\n')
}

// csvNeedsQuotes is encoding/csv's rule for a field that must be quoted: it
// holds a comma, a double quote or a line break, starts with a space, or is
// \. (which ends data in PostgreSQL's COPY).
func csvNeedsQuotes(field string) bool {
	if field == "" {
		return false
	}
	if field == `\.` || strings.ContainsAny(field, ",\"\r\n") {
		return true
	}
	r, _ := utf8.DecodeRuneInString(field)
	return unicode.IsSpace(r)
}

// formulaLike reports whether a spreadsheet opening s from a CSV file would
// read it as a formula (or, after a tab or carriage return it trims, as one).
func formulaLike(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return true
	}
	return false
}

func writeJSON(w io.Writer, cols []column, s *scanner, o jsonOptions) error {
	keys := jsonKeys(cols)
	bw := bufio.NewWriter(w)
	buf := make([]byte, 0, 1024)
	n := 0
	for {
		ok, err := s.next()
		if err != nil {
			bw.Flush()
			return err
		}
		if !ok {
			break
		}
		buf = buf[:0]
		if n == 0 {
			buf = append(buf, "[\n  {"...)
		} else {
			buf = append(buf, ",\n  {"...)
		}
		for i, v := range s.vals {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, keys[i]...)
			buf = append(buf, ':')
			buf = appendJSON(buf, v, cols[i].typ, o)
		}
		buf = append(buf, '}')
		if _, err := bw.Write(buf); err != nil {
			return err
		}
		n++
	}
	end := "\n]\n"
	if n == 0 {
		end = "[]\n"
	}
	if _, err := bw.WriteString(end); err != nil {
		return err
	}
	return bw.Flush()
}

// jsonKeys are the encoded object keys, made unique: JSON readers keep only one
// of two members with the same name, and SQL happily returns "a, a".
func jsonKeys(cols []column) [][]byte {
	used := make(map[string]bool, len(cols))
	for _, c := range cols {
		used[c.name] = true
	}
	seen := make(map[string]bool, len(cols))
	keys := make([][]byte, len(cols))
	for i, c := range cols {
		name := c.name
		if seen[name] {
			for n := 1; ; n++ {
				alt := name + "_" + strconv.Itoa(n)
				if !used[alt] {
					name = alt
					used[alt] = true
					break
				}
			}
		}
		seen[name] = true
		keys[i] = appendJSONString(nil, name)
	}
	return keys
}

func writeTable(w io.Writer, cols []column, s *scanner) error {
	widths := make([]int, len(cols))
	header := make([]string, len(cols))
	for i, c := range cols {
		header[i] = tableCell(c.name)
		widths[i] = uniseg.StringWidth(header[i])
	}
	var body [][]string
	total := 0
	for {
		ok, err := s.next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		total++
		if total > tableRowLimit {
			continue
		}
		row := make([]string, len(cols))
		for i, v := range s.vals {
			if v == nil {
				row[i] = "NULL"
			} else {
				row[i] = tableCell(text(v, cols[i].typ))
			}
			widths[i] = max(widths[i], uniseg.StringWidth(row[i]))
		}
		body = append(body, row)
	}

	bw := bufio.NewWriter(w)
	if len(cols) > 0 {
		line := func(cells []string) {
			for i, c := range cells {
				if i == 0 {
					bw.WriteByte(' ')
				} else {
					bw.WriteString(" | ")
				}
				pad := strings.Repeat(" ", widths[i]-uniseg.StringWidth(c))
				switch {
				case cols[i].typ.numeric():
					bw.WriteString(pad)
					bw.WriteString(c)
				case i == len(cells)-1:
					bw.WriteString(c) // no trailing blanks
				default:
					bw.WriteString(c)
					bw.WriteString(pad)
				}
			}
			bw.WriteByte('\n')
		}
		line(header)
		for i, wd := range widths {
			if i > 0 {
				bw.WriteByte('+')
			}
			bw.WriteString(strings.Repeat("-", wd+2))
		}
		bw.WriteByte('\n')
		for _, row := range body {
			line(row)
		}
	}
	switch {
	case total == 1:
		bw.WriteString("(1 row)\n")
	case total > tableRowLimit:
		fmt.Fprintf(bw, "(%d rows, %d not shown)\n", total, total-tableRowLimit)
	default:
		fmt.Fprintf(bw, "(%d rows)\n", total)
	}
	return bw.Flush()
}

// tableCell makes s safe for one line of a terminal table: control characters
// escaped, and at most tableCellWidth columns wide.
func tableCell(s string) string {
	s = escapeControls(s)
	if uniseg.StringWidth(s) <= tableCellWidth {
		return s
	}
	var b strings.Builder
	width, state := 0, -1
	for len(s) > 0 {
		cluster, rest, w, st := uniseg.FirstGraphemeClusterInString(s, state)
		if width+w > tableCellWidth-1 {
			break
		}
		b.WriteString(cluster)
		width += w
		s, state = rest, st
	}
	b.WriteString("…")
	return b.String()
}

// escapeControls writes the control characters of s as escapes (\n, \r,
// \t, \xNN), so that s stays on one line of a table or of a SQL comment.
func escapeControls(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case isControl(r):
			fmt.Fprintf(&b, `\x%02X`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)
}
