package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// seedFuzz adds every testdata response as a seed.
func seedFuzz(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"data":{"has_more":"true","search_id":"x","ads":[{}]},"error":{"code":"ok"}}`))
	f.Add([]byte(`<html>504 Gateway Time-out</html>`))
	f.Add([]byte(`{"data":{"ads":[{"ad":{"id":"12`))
}

// decodeAll runs every decoder over one body; none may panic, whatever it holds.
func decodeAll(body []byte) {
	env, err := DecodeEnvelope(body)
	if err != nil {
		return
	}
	var q AdQueryData
	if json.Unmarshal(env.Data, &q) == nil {
		for _, a := range q.Ads {
			_ = a.Ad.VideoURLs()
			_ = ParseBounds(string(a.Ad.Reach.UniqueUsersSeen))
		}
	}
	var d AdDetailData
	if json.Unmarshal(env.Data, &d) == nil && d.AdGroup.Targeting != nil {
		_, _ = d.AdGroup.Targeting.Ages(), d.AdGroup.Targeting.Genders()
	}
	var c CommercialContentData
	_ = json.Unmarshal(env.Data, &c)
	var r ReportData
	_ = json.Unmarshal(env.Data, &r)
	var a AdvertiserQueryData
	_ = json.Unmarshal(env.Data, &a)
	var tr TokenResponse
	_ = json.Unmarshal(body, &tr)
}

func FuzzDecode(f *testing.F) {
	seedFuzz(f)
	f.Fuzz(func(t *testing.T, body []byte) { decodeAll(body) })
}

// FuzzInt64 checks that whatever decodes as an id round-trips exactly.
func FuzzInt64(f *testing.F) {
	for _, s := range []string{"7057157514558702338", `"123"`, "-1", "1e3", `""`, "null"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var n Int64
		if json.Unmarshal(b, &n) != nil || !n.Valid {
			return
		}
		out, _ := json.Marshal(n)
		var back Int64
		if err := json.Unmarshal(out, &back); err != nil || back != n {
			t.Fatalf("%s -> %d -> %s -> %v", b, n.V, out, back)
		}
	})
}

func FuzzParseBounds(f *testing.F) {
	for _, s := range []string{"10K-100K", "11K", "<1K", "1M+", "", "1.5M", "-", "K-M"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := ParseBounds(s)
		if (b.Lower != nil && *b.Lower < 0) || (b.Upper != nil && *b.Upper < 0) {
			t.Fatalf("ParseBounds(%q) gave a negative bound", s)
		}
	})
}
