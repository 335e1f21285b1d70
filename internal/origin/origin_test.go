package origin

import (
	"net/url"
	"testing"
)

func TestSame(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://api.example/x", "https://API.example:443/y", true},
		{"http://127.0.0.1/a", "http://127.0.0.1:80/b", true},
		{"https://api.example/", "http://api.example/", false},
		{"https://api.example/", "https://api.example:8443/", false},
		{"https://api.example/", "https://evil.example/", false},
		{"https://api.example.evil/", "https://api.example/", false},
	} {
		a, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		if got := Same(a, b); got != tc.same {
			t.Errorf("Same(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}
