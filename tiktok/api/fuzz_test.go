package api

import (
	"encoding/json"
	"fmt"
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
	// The item-level decoders must not panic either, and bound their rejects.
	var rejects []Reject
	if p, err := DecodeAdQuery(env.Data); err == nil {
		rejects = append(rejects, p.Rejects...)
		for _, a := range p.Ads {
			_ = ParseBounds(string(a.Ad.Reach.UniqueUsersSeen))
		}
	}
	if p, err := DecodeCommercialContent(env.Data); err == nil {
		rejects = append(rejects, p.Rejects...)
	}
	if p, err := DecodeAdvertiserQuery(env.Data); err == nil {
		rejects = append(rejects, p.Rejects...)
	}
	if p, err := DecodeAdReport(env.Data); err == nil {
		rejects = append(rejects, p.Rejects...)
	}
	if p, err := DecodeAdDetail(env.Data); err == nil {
		if p.OK == (p.Reject != nil) {
			panic("ad/detail is neither a detail nor a reject")
		}
		if p.Reject != nil {
			rejects = append(rejects, *p.Reject)
		}
	}
	for _, r := range rejects {
		if len(r.Item) > MaxRejectItem || !json.Valid(r.Item) {
			panic(fmt.Sprintf("reject item of %d bytes, valid %v", len(r.Item), json.Valid(r.Item)))
		}
	}
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

// FuzzParseBounds: no input gives a negative bound, or a lower bound above
// the upper one. The corpus holds the texts that stored −2^63 before the fix
// (NaN, NaNK, 1K-NaN, 999999999999B).
func FuzzParseBounds(f *testing.F) {
	for _, s := range []string{"10K-100K", "11K", "<1K", "1M+", "", "1.5M", "-", "K-M", "4.9M-5.9M", "0-1K"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := ParseBounds(s)
		if (b.Lower != nil && *b.Lower < 0) || (b.Upper != nil && *b.Upper < 0) {
			t.Fatalf("ParseBounds(%q) gave a negative bound", s)
		}
		if b.Lower != nil && b.Upper != nil && *b.Lower > *b.Upper {
			t.Fatalf("ParseBounds(%q) = %d-%d, lower above upper", s, *b.Lower, *b.Upper)
		}
	})
}
