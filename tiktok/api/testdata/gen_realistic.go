//go:build ignore

// gen_realistic writes the *_realistic.json fixtures: one response of each
// endpoint as the fake API serves a harvest (apitest.Realistic: live forms,
// the documentation's quirks, realistic volumes), with the field lists the
// crawl asks for. The benchmarks and the fast-path tests read them, so that
// they measure and check what a harvest decodes rather than a hand-made page.
// Run from the module root:
//
//	go run ./tiktok/api/testdata/gen_realistic.go
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"adharvest/tiktok/api"
	"adharvest/tiktok/apitest"
)

func main() {
	opts := apitest.Realistic(0)
	opts.Seed = 42
	now := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	opts.Now = func() time.Time { return now }
	srv := apitest.Start(opts)
	defer srv.Close()
	tok := srv.IssueToken()
	call := func(ep string, body any) []byte {
		b, err := json.Marshal(body)
		if err != nil {
			log.Fatal(err)
		}
		u := srv.URL + apitest.DataPathBase + ep + "/?fields=" + url.QueryEscape(strings.Join(api.RequiredFieldNames(ep), ","))
		req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer resp.Body.Close()
		out, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			log.Fatalf("%s: %d %v %s", ep, resp.StatusCode, err, out)
		}
		return out
	}
	write := func(name string, body []byte) {
		if err := os.WriteFile(filepath.Join("tiktok", "api", "testdata", name), body, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d bytes\n", name, len(body))
	}
	month := map[string]any{"min": "20250101", "max": "20250131"}

	query := call(api.EndpointAdQuery, map[string]any{
		"filters":   map[string]any{"ad_published_date_range": month, "country_code": "DE"},
		"max_count": 50,
	})
	write("ad_query_realistic.json", query)

	// The detail of the first ad on the page that has rejection_info, so
	// that the fixture holds every object ad/detail can send.
	env, err := api.DecodeEnvelope(query)
	if err != nil {
		log.Fatal(err)
	}
	page, err := api.DecodeAdQuery(env.Data)
	if err != nil || len(page.Ads) != 50 {
		log.Fatalf("ad/query: %d ads, %v", len(page.Ads), err)
	}
	var detail []byte
	for _, a := range page.Ads {
		d := call(api.EndpointAdDetail, map[string]any{"ad_id": fmt.Sprint(a.Ad.ID.V)})
		if detail == nil || bytes.Contains(d, []byte(`"rejection_info"`)) {
			detail = d
		}
		if bytes.Contains(d, []byte(`"rejection_info"`)) {
			break
		}
	}
	write("ad_detail_realistic.json", detail)

	write("commercial_content_realistic.json", call(api.EndpointCommercialContent, map[string]any{
		"filters":   map[string]any{"content_published_date_range": month, "creator_country_code": "DE"},
		"max_count": 50,
	}))
	write("advertiser_query_realistic.json", call(api.EndpointAdvertiserQuery, map[string]any{"search_term": "Co", "max_count": 50}))
	write("ad_report_realistic.json", call(api.EndpointAdReport, map[string]any{
		"filters": map[string]any{"ad_published_date_range": map[string]any{"min": "20250101", "max": "20250114"}, "country_code": "ALL"},
	}))
}
