package queries

import (
	"strings"
)

// dtype is a parsed DuckDB type name, as duckdb-go reports it in
// ColumnType.DatabaseTypeName: "BIGINT", "VARCHAR[]", "DECIMAL(18,3)",
// `STRUCT("a" INTEGER, "b" DATE[])`, "MAP(VARCHAR, BIGINT)",
// `UNION("n" INTEGER, "s" VARCHAR)`, "INTEGER[3]". Nested types need it because
// Go values alone are ambiguous: a DATE and a TIMESTAMP are both time.Time, a
// UUID and a BLOB both []byte, and a STRUCT arrives as an unordered map.
//
// A nil *dtype means "unknown"; values are then rendered from their Go type.
type dtype struct {
	name   string // upper-case base name: "BIGINT", "LIST", "ARRAY", "STRUCT", "MAP", "UNION", "DECIMAL", …
	elem   *dtype // LIST and ARRAY
	key    *dtype // MAP
	value  *dtype // MAP
	fields []field
}

// field is a STRUCT field or a UNION member.
type field struct {
	name string
	typ  *dtype
}

// parseType parses a type name, returning nil when it is not understood.
func parseType(s string) *dtype {
	p := typeParser{s: s}
	t := p.parse()
	p.space()
	if p.failed || p.i != len(p.s) {
		return nil
	}
	return t
}

type typeParser struct {
	s      string
	i      int
	failed bool
}

func (p *typeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *typeParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *typeParser) expect(c byte) {
	p.space()
	if p.peek() != c {
		p.failed = true
		return
	}
	p.i++
}

// word reads a base name, which may contain spaces ("TIMESTAMP WITH TIME ZONE").
func (p *typeParser) word() string {
	p.space()
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune("()[],\"", rune(p.s[p.i])) {
		p.i++
	}
	return strings.ToUpper(strings.TrimSpace(p.s[start:p.i]))
}

// ident reads a field name: "quoted ""with"" escapes" or a bare word.
func (p *typeParser) ident() string {
	p.space()
	if p.peek() != '"' {
		start := p.i
		for p.i < len(p.s) && p.s[p.i] != ' ' && !strings.ContainsRune("()[],", rune(p.s[p.i])) {
			p.i++
		}
		if p.i == start {
			p.failed = true
		}
		return p.s[start:p.i]
	}
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		if c == '"' {
			if p.peek() == '"' {
				p.i++
				b.WriteByte('"')
				continue
			}
			return b.String()
		}
		b.WriteByte(c)
	}
	p.failed = true
	return b.String()
}

func (p *typeParser) parse() *dtype {
	if p.failed {
		return nil
	}
	t := &dtype{name: p.word()}
	if t.name == "" {
		p.failed = true
		return nil
	}
	p.space()
	if p.peek() == '(' {
		p.i++
		switch t.name {
		case "STRUCT", "UNION":
			for !p.failed {
				name := p.ident()
				typ := p.parse()
				t.fields = append(t.fields, field{name: name, typ: typ})
				p.space()
				if p.peek() == ',' {
					p.i++
					continue
				}
				break
			}
			p.expect(')')
		case "MAP":
			t.key = p.parse()
			p.expect(',')
			t.value = p.parse()
			p.expect(')')
		default: // DECIMAL(18,3), ENUM('a', 'b'), …: arguments do not matter here.
			p.skipArgs()
		}
	}
	for !p.failed {
		p.space()
		if p.peek() != '[' {
			break
		}
		p.i++
		p.space()
		name := "LIST"
		if p.peek() != ']' {
			name = "ARRAY"
			for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
				p.i++
			}
		}
		p.expect(']')
		t = &dtype{name: name, elem: t}
	}
	return t
}

// skipArgs skips to the parenthesis that closes the one just read, minding
// quoted strings.
func (p *typeParser) skipArgs() {
	depth := 1
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '\'', '"':
			for p.i < len(p.s) {
				d := p.s[p.i]
				p.i++
				if d == c {
					if p.peek() == c {
						p.i++
						continue
					}
					break
				}
			}
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return
			}
		}
	}
	p.failed = true
}

// base is the base name, or "" for an unknown type.
func (t *dtype) base() string {
	if t == nil {
		return ""
	}
	return t.name
}

// child returns the element type of a LIST or ARRAY.
func (t *dtype) child() *dtype {
	if t == nil {
		return nil
	}
	return t.elem
}

// member returns the type of a STRUCT field or UNION member.
func (t *dtype) member(name string) *dtype {
	if t == nil {
		return nil
	}
	for _, f := range t.fields {
		if f.name == name {
			return f.typ
		}
	}
	return nil
}

// mapTypes returns the key and value types of a MAP.
func (t *dtype) mapTypes() (key, value *dtype) {
	if t == nil {
		return nil, nil
	}
	return t.key, t.value
}

// numeric reports whether values of the type are numbers (right-aligned in
// table output).
func (t *dtype) numeric() bool {
	switch t.base() {
	case "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
		"UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
		"FLOAT", "DOUBLE", "DECIMAL", "BIGNUM":
		return true
	}
	return false
}
