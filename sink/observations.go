package sink

import "github.com/parquet-go/parquet-go"

// AdObservationRow is one earlier fetch of an ad in one country (table
// ad_observations): what ad/query said of it then. The ads table holds each
// slice's latest fetch; when a slice is fetched again (its days were still
// provisional, or its search_id died) its parts are replaced, and the rows
// they held are kept here first, so that every fetch of an ad stays an
// observation. The ad_observations view adds the fetches the current parts
// of ads and ad_details hold.
type AdObservationRow struct {
	AdID            int64   `parquet:"ad_id"`
	FirstShownDate  *int32  `parquet:"first_shown_date,date,optional"`
	LastShownDate   *int32  `parquet:"last_shown_date,date,optional"`
	Status          *string `parquet:"status,optional"`
	StatusStatement *string `parquet:"status_statement,optional"`
	ReachText       *string `parquet:"reach_text,optional"`
	// Coverage is how complete the read of the slice was (its coverage
	// status, provisional aside: complete, short, empty_pages, capped,
	// unverified or pending): a status change is believed only from a read
	// that went to its end.
	Coverage string `parquet:"coverage"`
	Provenance
}

// AdObservations keeps the ad/query rows of replaced parts. It is written
// when a slice starts again, not by a part's commit, so, like the tables
// written whole at the end of a run, it is Derived: no part of its is
// registered, swept, repaired or rebuilt by a reparse (the fetches it keeps
// have no raw twin any more). --restart discards it with the rest.
var AdObservations = Table{Name: "ad_observations", Partition: "country_code", Key: []string{"ad_id", "country_code", "shard_id", "fetched_at"}, Schema: parquet.SchemaOf(AdObservationRow{}), Derived: true}
