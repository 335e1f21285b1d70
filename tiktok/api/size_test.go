package api

import "testing"

// TestParseBoundsHostile: a size the parser cannot read, or whose value does
// not fit int64 once multiplied, gives NULL bounds (the caller keeps the
// text); no input ever gives a negative bound. Before the fix "NaN" went
// through strconv.ParseFloat and int64(NaN) stored −9223372036854775808, and
// "999999999999B" overflowed to the same value.
func TestParseBoundsHostile(t *testing.T) {
	for _, in := range []string{
		"NaN", "NaNK", "nan", "1K-NaN", "NaN-1K", "Inf", "+InfK", "-Inf", "1e3", "0x10K",
		"999999999999B", "9223372036854775808", "9223372036854775807K", "10000000000B",
		"1K-999999999999B", "-1K", "1K-", "-", "K-M", "K", ".K", "1..5K", "1.5.5K", "1K-2K-3K",
		"-5", "--5K", "<-5K", ">-1K", "-1K+", "1,5M", "1,00K", "100K-10K", "½K", "１K", "1KK", "1B2M",
		"1K - NaN", "<NaN", "NaN+", "1\x00K",
	} {
		b := ParseBounds(in)
		if b.Lower != nil || b.Upper != nil {
			t.Errorf("ParseBounds(%q) = %v-%v, want NULL bounds", in, deref(b.Lower), deref(b.Upper))
		}
	}
}

// TestParseBoundsExact: decimals and the largest values are computed without
// float64, so nothing is rounded away.
func TestParseBoundsExact(t *testing.T) {
	p := func(v int64) *int64 { return &v }
	for _, tc := range []struct {
		in     string
		lo, hi *int64
	}{
		{"4.9M-5.9M", p(4_900_000), p(5_900_000)},
		{"0-1K", p(0), p(1_000)},
		{"47K", p(47_000), p(47_000)},
		{"1.5", p(2), p(2)}, // rounded half up, as before
		{"1.25K", p(1_250), p(1_250)},
		{"1.2345K", p(1_235), p(1_235)},
		{"999B", p(999_000_000_000), p(999_000_000_000)},
		{"9223372036854775807", p(9223372036854775807), p(9223372036854775807)},
		{"9223372036.854775807B", p(9223372036854775807), p(9223372036854775807)},
		{"1,000", p(1_000), p(1_000)},
		{"1,000,000-2,000,000", p(1_000_000), p(2_000_000)},
		{"1K–10K", p(1_000), p(10_000)}, // en dash
		{"10k-100k", p(10_000), p(100_000)},
		{"<=1K", p(0), p(1_000)},
		{">=1B", p(1_000_000_000), nil},
		{"0K", p(0), p(0)},
		{".5K", p(500), p(500)},
		{"1.K", p(1_000), p(1_000)},
	} {
		b := ParseBounds(tc.in)
		if !eqp(b.Lower, tc.lo) || !eqp(b.Upper, tc.hi) {
			t.Errorf("ParseBounds(%q) = %v-%v, want %v-%v", tc.in, deref(b.Lower), deref(b.Upper), deref(tc.lo), deref(tc.hi))
		}
	}
}
