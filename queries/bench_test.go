package queries

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"adharvest/countries"
	"adharvest/folder"
	"adharvest/sink"
)

// millionAds lays out 1,000,000 ads over 30 countries, 50 parts each.
func millionAds(b *testing.B) string {
	dir := b.TempDir()
	{
		const perPart = 1_000_000 / 30 / 50
		now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
		id := int64(7_000_000_000_000_000_000)
		for ci, c := range countries.EEA {
			for p := 0; p < 50; p++ {
				rows := make([]sink.AdRow, 0, perPart)
				for i := 0; i < perPart; i++ {
					id++
					day := sink.Day(now.AddDate(0, 0, -int(id%180)))
					biz := int64(7_057_157_514_558_702_338) + id%5000
					name := fmt.Sprintf("Advertiser %d", id%5000)
					rows = append(rows, sink.AdRow{AdFields: sink.AdFields{AdID: id, FirstShownDate: day, LastShownDate: day, BusinessID: &biz, BusinessName: &name, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: sink.Provenance{FetchedAt: now, RunID: "bench", ShardID: fmt.Sprint(ci, p)}})
				}
				path := filepath.Join(folder.New(dir).PartitionDir(sink.Ads, c), fmt.Sprintf("bench-p%05d.parquet", p))
				if err := sink.WriteParquet(path, rows); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	return dir
}

// BenchmarkGroupBy1M times a per-country, per-week group-by over one million
// ads through the deduplicating ads view, as `adharvest sql` runs it.
func BenchmarkGroupBy1M(b *testing.B) {
	dir := millionAds(b)
	ctx := context.Background()
	eng, err := Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	for _, q := range []struct{ name, sql string }{
		{"ads_view", `SELECT country_code, date_trunc('week', first_shown_date) AS week, count(*) FROM ads GROUP BY ALL`},
		{"ads_all", `SELECT country_code, date_trunc('week', first_shown_date) AS week, count(*) FROM ads_all GROUP BY ALL`},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := eng.DB().QueryContext(ctx, q.sql)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for rows.Next() {
					n++
				}
				rows.Close()
				if n == 0 {
					b.Fatal("no groups")
				}
			}
			b.ReportMetric(1_000_000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
