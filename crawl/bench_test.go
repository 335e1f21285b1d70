package crawl

import (
	"context"
	"fmt"
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

// BenchmarkDetailsAt50ms harvests three weeks of ads of five countries with
// their details from a fake API that answers every request after 50 ms, with
// 8 and 32 workers: the detail fan-out runs alongside the slices, and a
// harvester whose own cost vanished keeps every worker's request in flight,
// concurrency/latency a second. "utilisation" is the requests a second
// reached over that bound.
func BenchmarkDetailsAt50ms(b *testing.B) {
	for _, conc := range []int{8, 32} {
		b.Run(fmt.Sprintf("workers=%d", conc), func(b *testing.B) { benchDetails(b, conc) })
	}
}

func benchDetails(b *testing.B, conc int) {
	const latency = 50 * time.Millisecond
	o := apitest.Realistic(50_000)
	o.Latency = latency
	srv := apitest.Start(o)
	defer srv.Close()
	j := job.Job{Datasets: []string{job.Ads, job.AdDetails}, Queries: []job.Query{{Countries: []string{"FR", "DE", "IT", "ES", "PL"}, From: "2023-03-01", To: "2023-03-21"}}}
	if err := j.Normalize(time.Now(), nil); err != nil {
		b.Fatal(err)
	}
	var requests int64
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
		c := &Crawler{Client: client, Store: store, Folder: f, RunID: "bench", Concurrency: conc}
		if err := c.RunPlanWithDetails(context.Background(), newPlan(j)); err != nil {
			b.Fatal(err)
		}
		requests += c.Requests()
		store.Close()
	}
	perSec := float64(requests) / b.Elapsed().Seconds()
	b.ReportMetric(perSec, "requests/s")
	b.ReportMetric(perSec/(float64(conc)/latency.Seconds()), "utilisation")
}
