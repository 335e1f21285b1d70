package crawl

import (
	"context"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/job"
	"adharvest/tiktok"
	"adharvest/tiktok/apitest"
)

// BenchmarkCrawlAds harvests every ad of 30 countries for one week from the
// fake API on loopback with no rate limit: the harvester's own cost per page
// (HTTP, decode, checkpoint commit with fsync, Parquet and raw parts).
func BenchmarkCrawlAds(b *testing.B) {
	srv := apitest.Start(apitest.Options{Quirks: true})
	defer srv.Close()
	j := job.Job{Queries: []job.Query{{Countries: []string{"EEA"}, From: "2024-01-01", To: "2024-01-07"}}}
	if err := j.Normalize(time.Now(), nil); err != nil {
		b.Fatal(err)
	}
	var rows, requests int64
	for b.Loop() {
		f := folder.New(b.TempDir())
		store, err := checkpoint.Open(f.Checkpoint())
		if err != nil {
			b.Fatal(err)
		}
		client, err := tiktok.NewClient(tiktok.Config{APIURL: srv.URL, ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret})
		if err != nil {
			b.Fatal(err)
		}
		c := &Crawler{Client: client, Store: store, Folder: f, RunID: "bench"}
		if err := c.Run(context.Background(), Plan(j)); err != nil {
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
