package countries

import (
	"errors"
	"slices"
	"testing"
)

func TestSetSizes(t *testing.T) {
	if len(EU27) != 27 || len(EEA) != 30 || len(All) != 31 {
		t.Fatalf("sizes EU27=%d EEA=%d All=%d, want 27, 30, 31", len(EU27), len(EEA), len(All))
	}
	for _, c := range All {
		if Name(c) == "" {
			t.Errorf("%s has no name", c)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []string
		wantLen  int
		bad      string
	}{
		{name: "empty means EEA", in: "", wantLen: 30},
		{name: "EU alias", in: "eu", wantLen: 27},
		{name: "ALL is the API's own value", in: "ALL", wantLen: 1},
		{name: "ALL absorbs codes listed with it", in: "FR,ALL,DE", wantLen: 1},
		{name: "list sorted and deduplicated", in: "fr, DE,FR", want: []string{"DE", "FR"}},
		{name: "EL means Greece", in: "EL", want: []string{"GR"}},
		{name: "UK means GB", in: "uk", want: []string{"GB"}},
		{name: "alias plus code dedups", in: "EEA,FR,GB", wantLen: 31},
		{name: "unknown code named", in: "FR,XX", bad: "XX"},
		{name: "CH not served", in: "CH", bad: "CH"},
		{name: "US not served", in: "us", bad: "us"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.in)
			if tc.bad != "" {
				var ue *UnknownError
				if !errors.As(err, &ue) || ue.Code != tc.bad {
					t.Fatalf("Parse(%q) err = %v, want UnknownError for %q", tc.in, err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want != nil && !slices.Equal(got, tc.want) {
				t.Fatalf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
			}
			if tc.wantLen != 0 && len(got) != tc.wantLen {
				t.Fatalf("Parse(%q) has %d codes, want %d", tc.in, len(got), tc.wantLen)
			}
			if !slices.IsSorted(got) {
				t.Fatalf("Parse(%q) = %v is not sorted", tc.in, got)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	ok, skipped := Split([]string{"DE", "GB", "NO"}, ScopeCommercial)
	if !slices.Equal(ok, []string{"DE", "NO"}) || !slices.Equal(skipped, []string{"GB"}) {
		t.Fatalf("commercial split = %v / %v", ok, skipped)
	}
	if !ScopeAds.Allowed("GB") || ScopeAds.Allowed("CH") {
		t.Fatal("ads scope must take GB and refuse CH")
	}
}

func TestCode(t *testing.T) {
	for in, want := range map[string]string{"Austria": "AT", "belgium": "BE", "FR": "FR", "Republic of Cyprus": "CY", "United Kingdom": "GB"} {
		if got, ok := Code(in); !ok || got != want {
			t.Errorf("Code(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	if _, ok := Code("Atlantis"); ok {
		t.Error("Code(Atlantis) should fail")
	}
}
