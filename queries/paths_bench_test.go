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

// BenchmarkTwoThousandParts times the views over 2,000 ads parts (20
// countries, 100 parts of 500 rows each) in a folder called "run[1]": opening
// the engine, a full count, a per-country count, a one-country filter (which
// must open only that country's 100 files) and the deduplicating view.
func BenchmarkTwoThousandParts(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "run[1]")
	now := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	id := int64(7_000_000_000_000_000_000)
	for ci, c := range countries.EEA[:20] {
		for p := 0; p < 100; p++ {
			rows := make([]sink.AdRow, 0, 500)
			for i := 0; i < 500; i++ {
				id++
				day := sink.Day(now.AddDate(0, 0, -int(id%180)))
				name := fmt.Sprintf("Advertiser %d", id%5000)
				rows = append(rows, sink.AdRow{AdFields: sink.AdFields{AdID: id, FirstShownDate: day, LastShownDate: day, BusinessName: &name, VideoURLs: []string{}, ImageURLs: []string{}}, Provenance: sink.Provenance{FetchedAt: now, RunID: "bench", ShardID: fmt.Sprint(ci, p)}})
			}
			if err := sink.WriteParquet(folder.New(dir).Part(sink.Ads, c, "bench", p), rows); err != nil {
				b.Fatal(err)
			}
		}
	}
	ctx := context.Background()
	b.Run("open", func(b *testing.B) {
		for b.Loop() {
			e, err := Open(ctx, dir)
			if err != nil {
				b.Fatal(err)
			}
			e.Close()
		}
	})
	e, err := Open(ctx, dir)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	for _, q := range []struct{ name, sql, want string }{
		{"count", "SELECT count(*) FROM ads_all", "1000000"},
		{"per_country", "SELECT count(DISTINCT country_code) FROM (SELECT country_code, count(*) FROM ads_all GROUP BY 1)", "20"},
		{"one_country", "SELECT count(*) FROM ads_all WHERE country_code = 'DE'", "50000"},
		{"dedup_weeks", "SELECT count(*) FROM (SELECT country_code, date_trunc('week', first_shown_date) AS week, count(*) FROM ads GROUP BY ALL)", ""},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				var got string
				if err := e.DB().QueryRowContext(ctx, q.sql).Scan(&got); err != nil {
					b.Fatal(err)
				}
				if q.want != "" && got != q.want {
					b.Fatalf("%s: %s, want %s", q.sql, got, q.want)
				}
			}
		})
	}
}
