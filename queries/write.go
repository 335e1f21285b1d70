package queries

import (
	"bufio"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

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
//     NULL as an empty field, and a single quote before text that
//     spreadsheets would run as a formula (see WriteOptions.RawCSV).
//   - json: one array of objects, one object per line, members in column
//     order (a repeated column name gets a _1, _2… suffix). Integers of any size
//     and decimals are JSON numbers written exactly, dates "YYYY-MM-DD",
//     timestamps RFC 3339 in UTC, lists arrays, structs and maps objects, NULL
//     null; NaN and infinities, which JSON cannot represent, become null.
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
		write = func(w io.Writer, cols []column, s *scanner) error { return writeCSV(w, cols, s, !opts.RawCSV) }
	case "json":
		write = writeJSON
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

// writeCSV writes the CSV format; with safe, text cells that a spreadsheet
// would take for a formula are neutralised (see WriteOptions.RawCSV). The
// header is the query's column names, not data, and is written as it is.
func writeCSV(w io.Writer, cols []column, s *scanner, safe bool) error {
	cw := csv.NewWriter(w)
	record := make([]string, len(cols))
	for i, c := range cols {
		record[i] = c.name
	}
	if err := cw.Write(record); err != nil {
		return err
	}
	for {
		ok, err := s.next()
		if err != nil {
			cw.Flush()
			return err
		}
		if !ok {
			break
		}
		for i, v := range s.vals {
			record[i] = text(v, cols[i].typ)
			if safe && isText(v, cols[i].typ) && formulaLike(record[i]) {
				record[i] = "'" + record[i]
			}
		}
		if err := cw.Write(record); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
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

func writeJSON(w io.Writer, cols []column, s *scanner) error {
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
			buf = appendJSON(buf, v, cols[i].typ)
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
	clean := true
	for _, r := range s {
		if isControl(r) {
			clean = false
			break
		}
	}
	if !clean {
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
		s = b.String()
	}
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

func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)
}
