package api

import (
	"fmt"
	"math"
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
// read gives NULL bounds (the caller keeps the text beside them), because
// losing a row over an unparsable size would be worse than a NULL, and a
// guessed number would be worse still. The arithmetic is exact integer
// arithmetic, never float64: "NaN", "NaNK", "1K-NaN" and "999999999999B"
// (beyond int64 once multiplied) are unreadable, so no input ever gives a
// negative bound. A range must have both ends, in order ("100K-10K" and
// "1K-" are unreadable); open ends are written "<1K", "1M+" or ">1B".
func ParseBounds(text string) Bounds {
	s, ok := normalizeSize(text)
	if !ok || s == "" {
		return Bounds{}
	}
	switch {
	case strings.HasPrefix(s, "<"):
		if v, ok := amount(strings.TrimPrefix(strings.TrimPrefix(s, "<"), "=")); ok {
			zero := int64(0)
			return Bounds{Lower: &zero, Upper: &v}
		}
		return Bounds{}
	case strings.HasPrefix(s, ">"):
		if v, ok := amount(strings.TrimPrefix(strings.TrimPrefix(s, ">"), "=")); ok {
			return Bounds{Lower: &v}
		}
		return Bounds{}
	case strings.HasSuffix(s, "+"):
		if v, ok := amount(strings.TrimSuffix(s, "+")); ok {
			return Bounds{Lower: &v}
		}
		return Bounds{}
	}
	if lo, hi, found := strings.Cut(s, "-"); found {
		l, okL := amount(lo)
		h, okH := amount(hi)
		if !okL || !okH || l > h {
			return Bounds{}
		}
		return Bounds{Lower: &l, Upper: &h}
	}
	if v, ok := amount(s); ok {
		u := v
		return Bounds{Lower: &v, Upper: &u}
	}
	return Bounds{}
}

// normalizeSize upper-cases the text, drops spaces, reads en and em dashes
// as the range dash, and removes thousands separators. A comma that is not
// followed by exactly three digits ("4,9M" in a European locale) makes the
// text unreadable rather than ten times larger.
func normalizeSize(text string) (string, bool) {
	s := strings.ToUpper(strings.TrimSpace(text))
	s = strings.NewReplacer(" ", "", "\u2013", "-", "\u2014", "-").Replace(s)
	if !strings.Contains(s, ",") {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != ',' {
			b.WriteByte(s[i])
			continue
		}
		digitsBefore := i > 0 && isDigit(s[i-1])
		n := 0
		for n < 4 && i+1+n < len(s) && isDigit(s[i+1+n]) {
			n++
		}
		if !digitsBefore || n != 3 {
			return "", false
		}
	}
	return b.String(), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// sizeDigits is how many decimal places each unit shifts.
var sizeDigits = map[byte]int{'K': 3, 'M': 6, 'B': 9}

// amount reads "11K", "1.5M", "900" or "2B" as a count, exactly: the integer
// part times the unit plus the fraction rounded half up to a whole count.
// Anything but ASCII digits, one optional point and one optional unit is
// unreadable, as is a value beyond int64.
func amount(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	shift := 0
	if d, ok := sizeDigits[s[len(s)-1]]; ok {
		shift = d
		s = s[:len(s)-1]
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" {
		return 0, false
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if !isDigit(part[i]) {
				return 0, false
			}
		}
	}
	// The fraction's first shift digits are whole counts; the next decides
	// the rounding.
	digits := whole + (frac + strings.Repeat("0", shift))[:shift]
	rest := frac[min(shift, len(frac)):]
	digits = strings.TrimLeft(digits, "0")
	if digits == "" {
		digits = "0"
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	if rest != "" && rest[0] >= '5' {
		if n == math.MaxInt64 {
			return 0, false
		}
		n++
	}
	return n, true
}
