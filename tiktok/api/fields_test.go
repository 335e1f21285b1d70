package api

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestFieldLists(t *testing.T) {
	detail := FieldNames(EndpointAdDetail, nil)
	for _, f := range []string{"ad.rejection_info", "advertiser.country_code", "ad_group.targeting_info", "ad.title"} {
		if !slices.Contains(detail, f) {
			t.Errorf("ad/detail does not ask for %s", f)
		}
	}
	for _, f := range []string{"ad.rejection_info", "advertiser.country_code"} {
		if !IsOptionalField(EndpointAdDetail, f) {
			t.Errorf("ad/detail: %s is not in the reference's list, so a service may refuse it: it must be optional", f)
		}
	}
	query := FieldNames(EndpointAdQuery, nil)
	if slices.Contains(query, "advertiser.country_code") || slices.Contains(query, "ad.rejection_info") {
		t.Error("ad/query asks for a field that is valid on ad/detail only")
	}
	for _, ep := range []string{EndpointAdQuery, EndpointAdDetail} {
		all := FieldNames(ep, nil)
		for _, f := range NewerAdFields {
			if !slices.Contains(all, f) || !IsOptionalField(ep, f) {
				t.Errorf("%s: %s missing or not optional", ep, f)
			}
		}
		// The lists without optional fields are what the legacy variables hold.
		base := RequiredFieldNames(ep)
		optional := len(NewerAdFields)
		if ep == EndpointAdDetail {
			optional += 2 // ad.rejection_info, advertiser.country_code
		}
		if len(base)+optional != len(all) {
			t.Errorf("%s: %d base + %d optional != %d", ep, len(base), optional, len(all))
		}
		dropped := FieldNames(ep, map[string]bool{"ad.title": true, "ad.call_to_action": true, "ad.id": true})
		if slices.Contains(dropped, "ad.title") || slices.Contains(dropped, "ad.call_to_action") || !slices.Contains(dropped, "ad.id") ||
			len(dropped) != len(all)-2 {
			t.Errorf("%s: dropping gave %v", ep, dropped)
		}
		if IsOptionalField(ep, "ad.id") {
			t.Errorf("%s: ad.id optional", ep)
		}
	}
	if !slices.Equal(AdDetailFields, RequiredFieldNames(EndpointAdDetail)) || !slices.Equal(AdQueryFields, RequiredFieldNames(EndpointAdQuery)) {
		t.Error("legacy field variables differ from the table")
	}
	if slices.Contains(AdQueryFields, "ad.title") {
		t.Error("the legacy list asks for an optional field")
	}
	fs := Fields(EndpointAdDetail)
	fs[0].Name = "changed"
	if Fields(EndpointAdDetail)[0].Name != "ad.id" {
		t.Error("Fields returns the table itself")
	}
	if err := ValidateFields(FieldNames(EndpointAdDetail, nil), detail); err != nil {
		t.Error(err)
	}
}

// TestFieldFromInvalidParams: the field a 400 names is found in the forms a
// service plausibly words it, and never in the list of fields it does take
// or in a message about something else.
func TestFieldFromInvalidParams(t *testing.T) {
	supported := strings.Join(RequiredFieldNames(EndpointAdQuery), ",")
	for _, tc := range []struct {
		msg, want string
	}{
		{"Invalid parameters: fields: ad.title is not a valid field", "ad.title"},
		{"invalid field(s): ad.title", "ad.title"},
		{"Invalid field(s): ad.call_to_action, ad.title", "ad.call_to_action"},
		{"invalid fields: ad.download_url", "ad.download_url"},
		{`Invalid fields: "ad.external_url" is not a supported field of this endpoint; supported fields are ` + supported, "ad.external_url"},
		{"Invalid fields: 'ad.advertising_objective' is not supported", "ad.advertising_objective"},
		{"field ad.title does not exist", "ad.title"},
		{"Unknown field `ad.title`; did you mean ad.id?", "ad.title"},
		{"The field AD.TITLE is invalid.", "ad.title"},
		{"invalid field(s): [ad.title]", "ad.title"},
		{"Invalid parameters: fields: advertiser.country_code is not a valid field", "advertiser.country_code"},
		{"invalid field(s): label", "label"},
		{"Field: creator is not supported", "creator"},
		{"Invalid fields: the fields query parameter is required; supported fields are " + supported, ""},
		{"Search Id 2837438294054038 is invalid or expired", ""},
		{"Invalid parameters: ad_published_date_range.min must be on or after 20221001", ""},
		{"Invalid filters: country_code XX is not supported", ""},
		{"invalid field(s): ad.bogus", ""},
		{"", ""},
		{"Invalid parameters: search id is invalid", ""},
	} {
		got, ok := FieldFromInvalidParams(tc.msg)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("FieldFromInvalidParams(%.80q) = %q, %v; want %q", tc.msg, got, ok, tc.want)
		}
	}
}

// The probe a caller runs: ask for every field; when the 400 names an
// Optional one, drop it for the run and ask again; any other 400 is real.
func ExampleFieldFromInvalidParams() {
	refuses := map[string]bool{"ad.title": true, "ad.download_url": true} // a service that does not know two newer fields
	call := func(fields []string) (msg string) {
		for _, f := range fields {
			if refuses[f] {
				return "Invalid parameters: fields: " + f + " is not a valid field"
			}
		}
		return ""
	}
	dropped := map[string]bool{}
	for calls := 1; ; calls++ {
		fields := FieldNames(EndpointAdQuery, dropped)
		msg := call(fields)
		if msg == "" {
			fmt.Println(calls, "calls; asked for", strings.Join(fields[len(fields)-3:], ","))
			break
		}
		f, ok := FieldFromInvalidParams(msg)
		if !ok || !IsOptionalField(EndpointAdQuery, f) {
			fmt.Println("a real error:", msg)
			break
		}
		dropped[f] = true
	}
	// Output: 3 calls; asked for ad.external_url,ad.call_to_action,ad.advertising_objective
}
