package sink

import "time"

// Day converts a calendar day to a Parquet DATE (days since 1970-01-01). Dates
// are stored as int32 days because parquet-go writes a time.Time field tagged
// "date" as truncated nanoseconds, which readers show as years far BC.
func Day(t time.Time) *int32 {
	d := int32(t.UTC().Unix() / 86400)
	if t.UTC().Unix() < 0 && t.UTC().Unix()%86400 != 0 {
		d--
	}
	return &d
}

// DayPtr is Day for an optional date.
func DayPtr(t *time.Time) *int32 {
	if t == nil {
		return nil
	}
	return Day(*t)
}

// Provenance is carried by every row of every table: where the row was found and
// when. Country (or query country) is not here because it is the Hive partition
// of the folder the file lives in, and Spark refuses files that repeat a
// partition column inside the data.
type Provenance struct {
	SearchTerm  string    `parquet:"search_term"`
	SearchType  string    `parquet:"search_type"`
	WindowStart *int32    `parquet:"window_start,date,optional"`
	WindowEnd   *int32    `parquet:"window_end,date,optional"`
	FetchedAt   time.Time `parquet:"fetched_at,timestamp(microsecond)"`
	RunID       string    `parquet:"run_id"`
	ShardID     string    `parquet:"shard_id"`
}

// AdRow is one ad found by ad/query in one country (table ads).
type AdRow struct {
	AdID            int64    `parquet:"ad_id"`
	FirstShownDate  *int32   `parquet:"first_shown_date,date,optional"`
	LastShownDate   *int32   `parquet:"last_shown_date,date,optional"`
	Status          *string  `parquet:"status,optional"`
	StatusStatement *string  `parquet:"status_statement,optional"`
	VideoURLs       []string `parquet:"video_urls,list"`
	ImageURLs       []string `parquet:"image_urls,list"`
	ReachText       *string  `parquet:"reach_text,optional"`
	ReachLower      *int64   `parquet:"reach_lower,optional"`
	ReachUpper      *int64   `parquet:"reach_upper,optional"`
	BusinessID      *int64   `parquet:"business_id,optional"`
	BusinessName    *string  `parquet:"business_name,optional"`
	PaidForBy       *string  `parquet:"paid_for_by,optional"`
	Provenance
}
