package harvest

import (
	"context"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/harvest/apitest"
)

// BenchmarkCrawlAds harvests every ad of 30 countries for one week from the
// fake API on loopback with no rate limit: the harvester's own cost per page
// (HTTP, decode, checkpoint commit with fsync, Parquet and raw parts).
func BenchmarkCrawlAds(b *testing.B) {
	srv := apitest.Start(apitest.Options{Quirks: true})
	defer srv.Close()
	job := Job{Queries: []Query{{Countries: []string{"EEA"}, From: "2024-01-01", To: "2024-01-07"}}}
	if err := job.Normalize(time.Now(), nil); err != nil {
		b.Fatal(err)
	}
	var rows, requests int64
	for b.Loop() {
		out := b.TempDir()
		store, err := checkpoint.Open(out)
		if err != nil {
			b.Fatal(err)
		}
		client, err := NewClient(Config{APIURL: srv.URL, ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret})
		if err != nil {
			b.Fatal(err)
		}
		c := &Crawler{Client: client, Store: store, Out: out, RunID: "bench"}
		if err := c.Run(context.Background(), Plan(job)); err != nil {
			b.Fatal(err)
		}
		states, _ := store.Shards()
		for _, s := range states {
			rows += s.Rows
		}
		requests += c.Requests()
		store.Close()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(requests)/b.Elapsed().Seconds(), "requests/s")
}
