package sink

import (
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWriteParquetAds writes parts of 1,000 ad rows, the size of a part
// at the default 20 pages of 50.
func BenchmarkWriteParquetAds(b *testing.B) {
	dir := b.TempDir()
	now := time.Now().UTC()
	rows := make([]AdRow, 1000)
	for i := range rows {
		name, reach := "Awe Food Co., \"Berlin\"", "10K-100K"
		biz, lo, hi := int64(7057157514558702338), int64(10_000), int64(100_000)
		rows[i] = AdRow{AdFields: AdFields{AdID: int64(7_000_000_000_000_000_000 + i), FirstShownDate: Day(now), LastShownDate: Day(now),
			VideoURLs: []string{"https://example.invalid/v/1"}, ImageURLs: []string{}, ReachText: &reach, ReachLower: &lo, ReachUpper: &hi,
			BusinessID: &biz, BusinessName: &name}, Provenance: Provenance{SearchTerm: "coffee", FetchedAt: now, RunID: "r", ShardID: "s"}}
	}
	path := filepath.Join(dir, "part.parquet")
	for b.Loop() {
		if err := WriteParquet(path, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
