package queries

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/rivo/uniseg"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// run writes the result of query in format.
func run(t *testing.T, e *Engine, format, query string) string {
	t.Helper()
	rows, err := e.Query(context.Background(), query)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Write(&b, format, rows); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// typesQuery returns one row of many DuckDB types, then the same columns NULL.
const typesQuery = `
WITH v AS (
	SELECT
		42::TINYINT AS tiny,
		'-32768'::SMALLINT AS small,
		9223372036854775807 AS big,
		18446744073709551615::UBIGINT AS ubig,
		'-170141183460469231731687303715884105728'::HUGEINT AS huge,
		123.450::DECIMAL(10,3) AS dec,
		-0.05::DECIMAL(4,2) AS dec_neg,
		0.1::DOUBLE AS dbl,
		1e300::DOUBLE AS dbl_big,
		1.5::FLOAT AS flt,
		'NaN'::DOUBLE AS nan,
		true AS bool,
		DATE '2024-02-29' AS date,
		TIMESTAMP '2024-02-29 13:14:15.5' AS ts,
		TIMESTAMPTZ '2024-02-29 13:14:15+02' AS tstz,
		TIME '13:14:15' AS time,
		INTERVAL '1 year 2 months 3 days 04:05:06.5' AS iv,
		'\xAA\x00a'::BLOB AS blob,
		'6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID AS uuid,
		['6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID] AS uuids,
		'b'::ENUM('a', 'b') AS enum,
		[DATE '2024-01-01', NULL] AS dates,
		[[1, 2], [3]] AS nested,
		{'z': 1, 'a': 'x', 'at': TIMESTAMPTZ '2024-01-01 00:00:00+00', 'd': 1.10::DECIMAL(5,2)} AS struct,
		MAP {'z': 1, 'a': 2} AS map,
		union_value(num := 2)::UNION(num INTEGER, day DATE) AS uni,
		[1, 2, 3]::INTEGER[3] AS arr,
		'tab	and
newline' AS ctrl,
		'Café "Le Coin", Paris 日本語 😀' AS unicode,
		repeat('long ', 20) AS long
)
SELECT * FROM v
UNION ALL
SELECT v.* FROM range(1) LEFT JOIN v ON false
`

func TestGolden(t *testing.T) {
	e := open(t, writeDataset(t))
	tests := []struct {
		name, query string
	}{
		{"ads", "SELECT * FROM ads ORDER BY country_code, ad_id"},
		{"ads_all", "SELECT ad_id, country_code, status, run_id, shard_id, fetched_at FROM ads_all ORDER BY country_code, ad_id, fetched_at"},
		{"types", typesQuery},
		{"empty", "SELECT * FROM ads WHERE false"},
	}
	for _, tc := range tests {
		for _, format := range Formats {
			t.Run(tc.name+"."+format, func(t *testing.T) {
				got := run(t, e, format, tc.query)
				path := filepath.Join("testdata", tc.name+"."+format)
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs (run go test -update to accept):\ngot:\n%s\nwant:\n%s", path, got, want)
				}
			})
		}
	}
}

func TestBigIntegersExact(t *testing.T) {
	e := open(t, writeDataset(t))
	const query = "SELECT ad_id, business_id, ad_id::HUGEINT * 1000 AS huge FROM ads WHERE country_code = 'FR' AND business_id IS NOT NULL"
	want := []string{"7057157514558702338", "7000000000000000001", "7057157514558702338000"}
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			out := run(t, e, format, query)
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %s:\n%s", w, out)
				}
			}
			if format != "json" {
				return
			}
			dec := json.NewDecoder(strings.NewReader(out))
			dec.UseNumber()
			var got []map[string]json.Number
			if err := dec.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d objects", len(got))
			}
			for i, col := range []string{"ad_id", "business_id", "huge"} {
				if got[0][col].String() != want[i] {
					t.Errorf("%s = %s, want %s", col, got[0][col], want[i])
				}
			}
		})
	}
}

func TestStringsNullsLists(t *testing.T) {
	e := open(t, writeDataset(t))
	query := fmt.Sprintf(`SELECT business_name, status_statement, video_urls, image_urls, reach_text, reach_lower, fetched_at
		FROM ads WHERE ad_id = %d AND country_code = 'FR'`, bigID)
	cols := []string{"business_name", "status_statement", "video_urls", "image_urls", "reach_text", "reach_lower", "fetched_at"}

	t.Run("csv", func(t *testing.T) {
		records, err := csv.NewReader(strings.NewReader(run(t, e, "csv", query))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		want := [][]string{cols, {tricky, tricky, `["https://v.example/1.mp4"]`, `["https://i.example/a,b.jpg"]`, "", "", "2024-06-02T08:30:00.123456Z"}}
		if !reflect.DeepEqual(records, want) {
			t.Errorf("got  %q\nwant %q", records, want)
		}
	})
	t.Run("json", func(t *testing.T) {
		out := run(t, e, "json", query)
		var got []map[string]any
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		want := []map[string]any{{
			"business_name":    tricky,
			"status_statement": tricky,
			"video_urls":       []any{"https://v.example/1.mp4"},
			"image_urls":       []any{"https://i.example/a,b.jpg"},
			"reach_text":       nil,
			"reach_lower":      nil,
			"fetched_at":       "2024-06-02T08:30:00.123456Z",
		}}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got  %#v\nwant %#v", got, want)
		}
		// Members come in column order.
		last := -1
		for _, c := range cols {
			i := strings.Index(out, `"`+c+`":`)
			if i <= last {
				t.Errorf("member %s out of column order:\n%s", c, out)
			}
			last = i
		}
	})
	t.Run("table", func(t *testing.T) {
		out := run(t, e, "table", query)
		for _, want := range []string{"NULL", `Paris\nligne 2`, "(1 row)"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestTableLimits(t *testing.T) {
	e := open(t, t.TempDir())
	out := run(t, e, "table", "SELECT repeat('ab', 100) AS s, '😀' || repeat('日', 40) AS wide")
	lines := strings.Split(out, "\n")
	if len(lines) < 3 {
		t.Fatalf("output:\n%s", out)
	}
	row := lines[2]
	cells := strings.Split(row, " | ")
	for _, c := range cells {
		c = strings.TrimSpace(c)
		if !strings.HasSuffix(c, "…") || uniseg.StringWidth(c) > tableCellWidth {
			t.Errorf("cell %q (width %d) not cut to %d with …", c, uniseg.StringWidth(c), tableCellWidth)
		}
	}

	defer func(n int) { tableRowLimit = n }(tableRowLimit)
	tableRowLimit = 3
	out = run(t, e, "table", "SELECT range AS n FROM range(5)")
	want := " n\n---\n 0\n 1\n 2\n(5 rows, 2 not shown)\n"
	if out != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
}

func TestUnknownFormat(t *testing.T) {
	e := open(t, t.TempDir())
	rows, err := e.Query(context.Background(), "SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	err = Write(&bytes.Buffer{}, "xml", rows)
	if err == nil || !strings.Contains(err.Error(), `"xml"`) || !strings.Contains(err.Error(), "table, csv, json") {
		t.Errorf("error %v should name the format and the valid ones", err)
	}
}

// countingWriter records the largest single write.
type countingWriter struct {
	writes, largest, total int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	w.total += len(p)
	w.largest = max(w.largest, len(p))
	return len(p), nil
}

func TestStreaming(t *testing.T) {
	e := open(t, t.TempDir())
	for _, format := range []string{"csv", "json"} {
		t.Run(format, func(t *testing.T) {
			rows, err := e.Query(context.Background(), "SELECT range AS n, 'row ' || range AS s FROM range(200000)")
			if err != nil {
				t.Fatal(err)
			}
			var w countingWriter
			if err := Write(&w, format, rows); err != nil {
				t.Fatal(err)
			}
			if w.total < 2_000_000 || w.writes < 100 || w.largest > 64<<10 {
				t.Errorf("%d bytes in %d writes of at most %d bytes: not streamed", w.total, w.writes, w.largest)
			}
		})
	}
}

func TestDuplicateColumnNames(t *testing.T) {
	e := open(t, t.TempDir())
	got := run(t, e, "json", "SELECT 1 AS a, 2 AS a, 3 AS a_1")
	want := "[\n  {\"a\":1,\"a_2\":2,\"a_1\":3}\n]\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestParseType(t *testing.T) {
	list := func(e *dtype) *dtype { return &dtype{name: "LIST", elem: e} }
	b := func(n string) *dtype { return &dtype{name: n} }
	tests := []struct {
		in   string
		want *dtype
	}{
		{"BIGINT", b("BIGINT")},
		{"TIMESTAMP WITH TIME ZONE", b("TIMESTAMP WITH TIME ZONE")},
		{"VARCHAR[]", list(b("VARCHAR"))},
		{"DATE[][]", list(list(b("DATE")))},
		{"INTEGER[3]", &dtype{name: "ARRAY", elem: b("INTEGER")}},
		{"DECIMAL(18,3)", b("DECIMAL")},
		{"ENUM('a', 'b)')", b("ENUM")},
		{`STRUCT("a" INTEGER, "b ""c""" DATE[])`, &dtype{name: "STRUCT", fields: []field{{"a", b("INTEGER")}, {`b "c"`, list(b("DATE"))}}}},
		{`STRUCT(x STRUCT("y" UUID))[]`, list(&dtype{name: "STRUCT", fields: []field{{"x", &dtype{name: "STRUCT", fields: []field{{"y", b("UUID")}}}}}})},
		{"MAP(VARCHAR, BIGINT[])", &dtype{name: "MAP", key: b("VARCHAR"), value: list(b("BIGINT"))}},
		{`UNION("n" INTEGER, "d" DATE)`, &dtype{name: "UNION", fields: []field{{"n", b("INTEGER")}, {"d", b("DATE")}}}},
		{"", nil},
		{"STRUCT(", nil},
		{"VARCHAR]", nil},
	}
	for _, tc := range tests {
		if got := parseType(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("parseType(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestGoValues covers values that SQL results rarely or never produce but that
// the driver's types allow.
func TestGoValues(t *testing.T) {
	uuid := duckdb.UUID{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}
	ts := time.Date(2024, 2, 29, 13, 14, 15, 0, time.FixedZone("", 7200))
	tests := []struct {
		v              any
		typ            string
		wantText, want string
	}{
		{int64(bigID), "BIGINT", "7057157514558702338", "7057157514558702338"},
		{uint64(1<<64 - 1), "UBIGINT", "18446744073709551615", "18446744073709551615"},
		{new(big.Int).Lsh(big.NewInt(-1), 100), "HUGEINT", "-1267650600228229401496703205376", "-1267650600228229401496703205376"},
		{duckdb.Decimal{Width: 4, Scale: 3, Value: big.NewInt(-5)}, "DECIMAL(4,3)", "-0.005", "-0.005"},
		{duckdb.Decimal{Width: 4, Scale: 0, Value: big.NewInt(12)}, "DECIMAL(4,0)", "12", "12"},
		{float32(0.1), "FLOAT", "0.1", "0.1"},
		{1e-7, "DOUBLE", "1e-07", "1e-07"},
		{ts, "TIMESTAMPTZ", "2024-02-29T11:14:15Z", `"2024-02-29T11:14:15Z"`},
		{ts, "DATE", "2024-02-29", `"2024-02-29"`},
		{ts, "", "2024-02-29T11:14:15Z", `"2024-02-29T11:14:15Z"`},
		{uuid, "UUID", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", `"6ba7b810-9dad-11d1-80b4-00c04fd430c8"`},
		{&uuid, "UUID", "6ba7b810-9dad-11d1-80b4-00c04fd430c8", `"6ba7b810-9dad-11d1-80b4-00c04fd430c8"`},
		{uuid[:], "BLOB", `k\xA7\xB8\x10\x9D\xAD\x11\xD1\x80\xB4\x00\xC0O\xD40\xC8`, `"k\\xA7\\xB8\\x10\\x9D\\xAD\\x11\\xD1\\x80\\xB4\\x00\\xC0O\\xD40\\xC8"`},
		{duckdb.Interval{Days: -1, Micros: -90_000_000}, "INTERVAL", "-1 day -00:01:30", `"-1 day -00:01:30"`},
		{duckdb.Interval{}, "INTERVAL", "00:00:00", `"00:00:00"`},
		{duckdb.Map{"b": int32(2), "a": nil}, "MAP(VARCHAR, INTEGER)", `{"a":null,"b":2}`, `{"a":null,"b":2}`},
		{map[string]any{"b": 1, "a": []any{ts}}, "", `{"a":["2024-02-29T11:14:15Z"],"b":1}`, `{"a":["2024-02-29T11:14:15Z"],"b":1}`},
		{map[string]any{"b": 1, "a": []any{ts}}, `STRUCT("b" INTEGER, "a" DATE[])`, `{"b":1,"a":["2024-02-29"]}`, `{"b":1,"a":["2024-02-29"]}`},
		{"line\u2028sep\x01\xff", "VARCHAR", "line\u2028sep\x01\xff", `"line\u2028sep\u0001\ufffd"`},
		{nil, "VARCHAR", "", "null"},
		{(*big.Int)(nil), "HUGEINT", "<nil>", "null"},
	}
	for _, tc := range tests {
		typ := parseType(tc.typ)
		if got := text(tc.v, typ); got != tc.wantText {
			t.Errorf("text(%#v, %s) = %q, want %q", tc.v, tc.typ, got, tc.wantText)
		}
		if got := string(appendJSON(nil, tc.v, typ, jsonOptions{})); got != tc.want {
			t.Errorf("appendJSON(%#v, %s) = %s, want %s", tc.v, tc.typ, got, tc.want)
		}
		if !json.Valid(appendJSON(nil, tc.v, typ, jsonOptions{})) {
			t.Errorf("appendJSON(%#v) is not valid JSON", tc.v)
		}
	}
}
