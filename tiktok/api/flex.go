package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Int64 decodes a 64-bit id sent as a JSON number or a numeric string. It never
// passes through float64: business ids have 19 digits, well above 2^53, and a
// float would silently change them. Valid is false for null, "" or a missing key.
type Int64 struct {
	V     int64
	Valid bool
}

func (n *Int64) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*n = Int64{}
		return nil
	}
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*n = Int64{}
			return nil
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%.40q is not a 64-bit integer", s)
	}
	*n = Int64{V: v, Valid: true}
	return nil
}

func (n Int64) MarshalJSON() ([]byte, error) {
	if !n.Valid {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, n.V, 10), nil
}

// Ptr returns the value as a pointer, nil when absent, for optional Parquet columns.
func (n Int64) Ptr() *int64 {
	if !n.Valid {
		return nil
	}
	v := n.V
	return &v
}

// Bool decodes has_more, which the reference types as bool and its examples send
// as the string "true". Set records whether the key was present at all, because a
// missing has_more must not be read as "no more pages".
type Bool struct {
	V   bool
	Set bool
}

func (v *Bool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.Trim(strings.TrimSpace(string(b)), `"`)) {
	case "true", "1":
		*v = Bool{V: true, Set: true}
	case "false", "0":
		*v = Bool{V: false, Set: true}
	case "null", "":
		*v = Bool{}
	default:
		return fmt.Errorf("has_more %.20s is not a boolean", b)
	}
	return nil
}

// Date decodes a calendar day sent as the integer 20210101, the string "20210101",
// or "2021-01-01". Valid is false for null, "", 0 or a missing key.
type Date struct {
	T     time.Time
	Valid bool
}

func (d *Date) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if len(s) > 0 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
	}
	if s == "" || s == "null" || s == "0" {
		*d = Date{}
		return nil
	}
	t, err := ParseDay(s)
	if err != nil {
		return err
	}
	*d = Date{T: t, Valid: true}
	return nil
}

func (d Date) MarshalJSON() ([]byte, error) {
	if !d.Valid {
		return []byte("null"), nil
	}
	return json.Marshal(d.T.Format("20060102"))
}

// Ptr returns the date as a pointer, nil when absent, for optional Parquet columns.
func (d Date) Ptr() *time.Time {
	if !d.Valid {
		return nil
	}
	t := d.T
	return &t
}

// ParseDay reads YYYYMMDD or YYYY-MM-DD as midnight UTC.
func ParseDay(s string) (time.Time, error) {
	for _, layout := range []string{"20060102", "2006-01-02"} {
		if len(s) == len(layout) {
			if t, err := time.Parse(layout, s); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("date %.20q is not a calendar day written YYYYMMDD or YYYY-MM-DD", s)
}

// Text decodes a string field that the live service sometimes sends as a number
// (business_name can hold the funder's numeric id). Null bytes, seen inside strings
// in the sister Research API, are stripped because Parquet readers choke on them.
type Text string

func (t *Text) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(Clean(s))
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		*t = Text(b) // keep the digits exactly as sent
	case bytes.Equal(b, []byte("true")) || bytes.Equal(b, []byte("false")):
		*t = Text(b)
	default:
		return fmt.Errorf("text field holds %.20s", b)
	}
	return nil
}

// Ptr returns nil for the empty string, for optional Parquet columns.
func (t Text) Ptr() *string {
	if t == "" {
		return nil
	}
	s := string(t)
	return &s
}

// Clean strips NUL bytes, which the API has sent inside strings.
func Clean(s string) string {
	if strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(s, "\x00", "")
}

// Texts decodes a list of strings, tolerating null and cleaning each element.
type Texts []string

func (ts *Texts) UnmarshalJSON(b []byte) error {
	var raw []Text
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	out := make([]string, 0, len(raw))
	for _, t := range raw {
		out = append(out, string(t))
	}
	*ts = out
	return nil
}
