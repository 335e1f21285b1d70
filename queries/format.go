package queries

import (
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/duckdb/duckdb-go/v2"
)

// This file turns the values duckdb-go scans into text (table and CSV cells)
// and JSON. Scalars are rendered the same way in all formats: dates as
// YYYY-MM-DD, timestamps as RFC 3339 in UTC, integers and decimals exactly.
// Nested values (LIST, STRUCT, MAP, UNION of those) are JSON in every format:
// JSON is what most tools can read back from a CSV cell.

// text renders a non-NULL value as a table or CSV cell.
func text(v any, t *dtype) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []any, map[string]any, duckdb.OrderedMap, *duckdb.OrderedMap, duckdb.Map, map[any]any:
		return string(appendJSON(nil, v, t, jsonOptions{}))
	case duckdb.Union:
		return text(x.Value, t.member(x.Tag))
	}
	if s, ok := scalar(v, t); ok {
		return s
	}
	return fmt.Sprint(v)
}

// isText reports whether v, a non-NULL value of type t, is text: a string
// (VARCHAR, ENUM, JSON…) or the bytes of a BLOB, whose cells may hold
// anything a stranger wrote. Numbers, dates, times, intervals, UUIDs and
// nested values (whose cells are JSON, starting with "[" or "{") are not.
func isText(v any, t *dtype) bool {
	switch x := v.(type) {
	case string:
		return true
	case []byte:
		return !(t.base() == "UUID" && len(x) == 16)
	case duckdb.Union:
		return isText(x.Value, t.member(x.Tag))
	}
	return false
}

// scalar renders the scalar types whose text is the same in every format.
// quoted reports whether JSON needs the text as a string (true) or as a number
// or literal (false).
func scalarJSON(v any, t *dtype) (s string, quoted, ok bool) {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x), false, true
	case int:
		return strconv.FormatInt(int64(x), 10), false, true
	case int8:
		return strconv.FormatInt(int64(x), 10), false, true
	case int16:
		return strconv.FormatInt(int64(x), 10), false, true
	case int32:
		return strconv.FormatInt(int64(x), 10), false, true
	case int64:
		return strconv.FormatInt(x, 10), false, true
	case uint:
		return strconv.FormatUint(uint64(x), 10), false, true
	case uint8:
		return strconv.FormatUint(uint64(x), 10), false, true
	case uint16:
		return strconv.FormatUint(uint64(x), 10), false, true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), false, true
	case uint64:
		return strconv.FormatUint(x, 10), false, true
	case float32:
		return formatFloat(float64(x), 32), false, true
	case float64:
		return formatFloat(x, 64), false, true
	case *big.Int:
		if x == nil {
			return "", false, false
		}
		return x.String(), false, true
	case duckdb.Decimal:
		if x.Value == nil {
			return "", false, false
		}
		return decimalString(x), false, true
	case time.Time:
		return formatTime(x, t), true, true
	case []byte:
		if t.base() == "UUID" && len(x) == 16 {
			u := duckdb.UUID(x)
			return u.String(), true, true
		}
		return blobString(x), true, true
	case duckdb.UUID:
		return x.String(), true, true
	case *duckdb.UUID:
		if x == nil {
			return "", false, false
		}
		return x.String(), true, true
	case duckdb.Interval:
		return intervalString(x), true, true
	case string:
		return x, true, true
	}
	return "", false, false
}

func scalar(v any, t *dtype) (string, bool) {
	s, _, ok := scalarJSON(v, t)
	return s, ok
}

// formatFloat is the shortest text that reads back as the same float, without
// an exponent for everyday magnitudes (like encoding/json). NaN and infinities
// are spelled as DuckDB spells them.
func formatFloat(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	abs := math.Abs(f)
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		return strconv.FormatFloat(f, 'g', -1, bits)
	}
	return strconv.FormatFloat(f, 'f', -1, bits)
}

// decimalString is the exact value of a DECIMAL, keeping its scale ("1.50").
func decimalString(d duckdb.Decimal) string {
	digits := new(big.Int).Abs(d.Value).String()
	sign := ""
	if d.Value.Sign() < 0 {
		sign = "-"
	}
	scale := int(d.Scale)
	if scale == 0 {
		return sign + digits
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	return sign + digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
}

// formatTime picks the layout from the DuckDB type: time.Time stands for DATE,
// TIME, TIMETZ and all the TIMESTAMP types. Timestamps are RFC 3339 in UTC
// (duckdb-go returns TIMESTAMP without time zone as UTC too).
func formatTime(x time.Time, t *dtype) string {
	switch t.base() {
	case "DATE":
		return x.Format(time.DateOnly)
	case "TIME":
		return x.Format("15:04:05.999999999")
	case "TIMETZ", "TIME WITH TIME ZONE":
		return x.Format("15:04:05.999999999Z07:00")
	}
	return x.UTC().Format(time.RFC3339Nano)
}

// intervalString spells an interval like DuckDB: "1 year 2 months 3 days 04:05:06".
func intervalString(iv duckdb.Interval) string {
	var parts []string
	plural := func(n int64, unit string) {
		if n == 0 {
			return
		}
		s := strconv.FormatInt(n, 10) + " " + unit
		if n != 1 && n != -1 {
			s += "s"
		}
		parts = append(parts, s)
	}
	plural(int64(iv.Months)/12, "year")
	plural(int64(iv.Months)%12, "month")
	plural(int64(iv.Days), "day")
	if iv.Micros != 0 || len(parts) == 0 {
		m := iv.Micros
		sign := ""
		if m < 0 {
			sign, m = "-", -m
		}
		s := fmt.Sprintf("%s%02d:%02d:%02d", sign, m/3_600_000_000, m/60_000_000%60, m/1_000_000%60)
		if frac := m % 1_000_000; frac != 0 {
			s += strings.TrimRight(fmt.Sprintf(".%06d", frac), "0")
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// blobString spells bytes like DuckDB's BLOB to VARCHAR cast: printable ASCII
// as is, anything else as \xHH.
func blobString(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		if c >= 0x20 && c <= 0x7e && c != '\\' && c != '\'' && c != '"' {
			s.WriteByte(c)
			continue
		}
		s.WriteString(`\x`)
		s.WriteString(strings.ToUpper(hex.EncodeToString([]byte{c})))
	}
	return s.String()
}

// jsonOptions adjust appendJSON.
type jsonOptions struct {
	// bigintStrings writes integers of 64 bits and more (BIGINT, UBIGINT,
	// HUGEINT, UHUGEINT, BIGNUM) as strings of their digits (see
	// WriteOptions.JSONBigIntAsString).
	bigintStrings bool
}

// appendJSON appends v as JSON. Object members keep the order of the type
// (STRUCT fields) or of the value (MAP entries); objects without an order
// (duckdb.Map, a STRUCT whose type is unknown) are sorted by key.
func appendJSON(buf []byte, v any, t *dtype, o jsonOptions) []byte {
	switch x := v.(type) {
	case nil:
		return append(buf, "null"...)
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return append(buf, "null"...)
		}
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(buf, "null"...)
		}
	case string:
		return appendJSONString(buf, x)
	case duckdb.Union:
		return appendJSON(buf, x.Value, t.member(x.Tag), o)
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendJSON(buf, e, t.child(), o)
		}
		return append(buf, ']')
	case map[string]any:
		return appendStruct(buf, x, t, o)
	case duckdb.OrderedMap:
		return appendOrderedMap(buf, &x, t, o)
	case *duckdb.OrderedMap:
		if x == nil {
			return append(buf, "null"...)
		}
		return appendOrderedMap(buf, x, t, o)
	case duckdb.Map:
		return appendUnorderedMap(buf, x, t, o)
	case map[any]any:
		return appendUnorderedMap(buf, x, t, o)
	case int64, uint64, int, uint, *big.Int:
		if o.bigintStrings {
			if s, _, ok := scalarJSON(v, t); ok {
				return appendJSONString(buf, s)
			}
		}
	}
	s, quoted, ok := scalarJSON(v, t)
	if !ok {
		// Unknown type: fall back to its printed form, which at least is valid JSON.
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
			return append(buf, "null"...)
		}
		return appendJSONString(buf, fmt.Sprint(v))
	}
	if quoted {
		return appendJSONString(buf, s)
	}
	return append(buf, s...)
}

func appendStruct(buf []byte, m map[string]any, t *dtype, o jsonOptions) []byte {
	buf = append(buf, '{')
	n := 0
	member := func(k string, v any, ft *dtype) {
		if n > 0 {
			buf = append(buf, ',')
		}
		n++
		buf = appendJSONString(buf, k)
		buf = append(buf, ':')
		buf = appendJSON(buf, v, ft, o)
	}
	seen := make(map[string]bool, len(m))
	if t.base() == "STRUCT" {
		for _, f := range t.fields {
			if v, ok := m[f.name]; ok {
				member(f.name, v, f.typ)
				seen[f.name] = true
			}
		}
	}
	rest := make([]string, 0, len(m)-len(seen))
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	for _, k := range rest {
		member(k, m[k], nil)
	}
	return append(buf, '}')
}

func appendOrderedMap(buf []byte, m *duckdb.OrderedMap, t *dtype, o jsonOptions) []byte {
	kt, vt := t.mapTypes()
	keys, vals := m.Keys(), m.Values()
	buf = append(buf, '{')
	for i, k := range keys {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, text(k, kt))
		buf = append(buf, ':')
		buf = appendJSON(buf, vals[i], vt, o)
	}
	return append(buf, '}')
}

func appendUnorderedMap(buf []byte, m map[any]any, t *dtype, o jsonOptions) []byte {
	kt, vt := t.mapTypes()
	type entry struct {
		key string
		val any
	}
	entries := make([]entry, 0, len(m))
	for k, v := range m {
		entries = append(entries, entry{text(k, kt), v})
	}
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.key, b.key) })
	buf = append(buf, '{')
	for i, e := range entries {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = appendJSONString(buf, e.key)
		buf = append(buf, ':')
		buf = appendJSON(buf, e.val, vt, o)
	}
	return append(buf, '}')
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD;
// <, > and & are left alone (this is not HTML); U+2028 and U+2029 are escaped
// so that the output is also valid JavaScript.
func appendJSONString(buf []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				buf = append(buf, '\\', c)
			case c == '\n':
				buf = append(buf, '\\', 'n')
			case c == '\r':
				buf = append(buf, '\\', 'r')
			case c == '\t':
				buf = append(buf, '\\', 't')
			case c < 0x20 || c == 0x7f:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf = append(buf, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			buf = append(buf, `\u202`...)
			buf = append(buf, hexDigits[r&0xf])
		default:
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return append(buf, '"')
}
