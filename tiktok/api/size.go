package api

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// sizeRE is the documented size grammar: an integer below 1000 followed by K, M
// or B. "1.1M", "2000K" and "1B2M" are invalid.
var sizeRE = regexp.MustCompile(`^(0|[1-9][0-9]{0,2})([KMB])$`)

var sizeUnit = map[string]int64{"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}

// ParseSize reads one size in the request grammar ("10K", "2M") and returns its value.
func ParseSize(s string) (int64, error) {
	m := sizeRE.FindStringSubmatch(strings.ToUpper(strings.TrimSpace(s)))
	if m == nil {
		return 0, fmt.Errorf("size %q is not an integer below 1000 followed by K, M or B (e.g. 10K, 2M)", s)
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	return n * sizeUnit[m[2]], nil
}

// Bounds is a parsed audience size. The API sends sizes as text: the documentation
// shows "11K", the live service sends ranges such as "10K-100K", and open ends
// such as "<1K" or "1M+" are plausible. Lower and Upper are nil when that end is
// unknown. Both are kept so that a researcher can choose conservative or generous
// totals; the original text is always kept beside them.
type Bounds struct {
	Lower, Upper *int64
}

// ParseBounds parses a reach or audience text. It never fails: text it cannot
// read gives empty bounds, because losing a row over an unparsable size would be
// worse than a NULL.
func ParseBounds(text string) Bounds {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(text), " ", ""))
	s = strings.ReplaceAll(s, ",", "")
	if s == "" {
		return Bounds{}
	}
	switch {
	case strings.HasPrefix(s, "<"):
		if v, ok := amount(strings.TrimLeft(s, "<=")); ok {
			zero := int64(0)
			return Bounds{Lower: &zero, Upper: &v}
		}
	case strings.HasPrefix(s, ">"):
		if v, ok := amount(strings.TrimLeft(s, ">=")); ok {
			return Bounds{Lower: &v}
		}
	case strings.HasSuffix(s, "+"):
		if v, ok := amount(strings.TrimSuffix(s, "+")); ok {
			return Bounds{Lower: &v}
		}
	}
	if lo, hi, found := strings.Cut(s, "-"); found {
		l, okL := amount(lo)
		h, okH := amount(hi)
		var b Bounds
		if okL {
			b.Lower = &l
		}
		if okH {
			b.Upper = &h
		}
		return b
	}
	if v, ok := amount(s); ok {
		u := v
		return Bounds{Lower: &v, Upper: &u}
	}
	return Bounds{}
}

// amount reads "11K", "1.5M", "900" or "2B" as a count.
func amount(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	mult := int64(1)
	if u, ok := sizeUnit[s[len(s)-1:]]; ok {
		mult = u
		s = s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 || f > 1e12 {
		return 0, false
	}
	return int64(f*float64(mult) + 0.5), true
}
