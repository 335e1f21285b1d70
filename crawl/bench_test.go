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

// BenchmarkCrawl harvests the ads of every EEA country for a quarter of a
// realistic year (about 50,000 ads a year) from the fake API on loopback
// with no rate limit and 8 workers: the harvester's own cost per page (HTTP,
// decode, checkpoint commit with fsync, Parquet and raw parts).
func BenchmarkCrawl(b *testing.B) {
	srv := apitest.Start(apitest.Realistic(50_000))
	defer srv.Close()
	j := job.Job{Queries: []job.Query{{Countries: []string{"EEA"}, From: "2023-01-01", To: "2023-03-31"}}}
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
		c := &Crawler{Client: client, Store: store, Folder: f, RunID: "bench", Concurrency: 8}
		if err := c.RunPlan(context.Background(), newPlan(j)); err != nil {
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
