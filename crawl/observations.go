package crawl

import (
	"errors"
	"fmt"
	"io/fs"

	"adharvest/checkpoint"
	"adharvest/sink"
)

// History. Every fetch of an ad is an observation. The ads table holds each
// slice's latest fetch; a slice fetched again (provisional days, a dead
// search_id) replaces its parts, so before it starts again the ads rows of
// its parts are copied to the ad_observations table, with how complete that
// read was. The ad_observations view is these copies, the rows of the
// current ads parts and every ad/detail answer; ad_history is built on it
// (queries/views/ad_observations.sql).

// observedAd is what an observation keeps of an ads row.
type observedAd struct {
	AdID            int64   `parquet:"ad_id"`
	FirstShownDate  *int32  `parquet:"first_shown_date,date,optional"`
	LastShownDate   *int32  `parquet:"last_shown_date,date,optional"`
	Status          *string `parquet:"status,optional"`
	StatusStatement *string `parquet:"status_statement,optional"`
	ReachText       *string `parquet:"reach_text,optional"`
	sink.Provenance
}

// keepObservations copies the ads rows of the parts st names into
// ad_observations, before the slice starts again. It writes under names
// that depend only on the slice and its chain, so a crash before the restart
// is recorded repeats the same copy, and a part already gone is skipped (its
// rows are lost with it).
func (c *Crawler) keepObservations(sh *Shard, st checkpoint.Shard) error {
	if sh.ds != adsDataset || st.Parts == 0 {
		return nil
	}
	read := coverageOf(st, false)
	for n := 0; n < st.Parts; n++ {
		pw := &partWriter{f: c.Folder, sh: sh, n: n}
		rows, err := sink.ReadParquet[observedAd](pw.path(sink.Ads))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: keep the observations of part %d: %w", sh.ID, n, err)
		}
		if len(rows) == 0 {
			continue
		}
		out := make([]sink.AdObservationRow, len(rows))
		for i, r := range rows {
			out[i] = sink.AdObservationRow{
				AdID: r.AdID, FirstShownDate: r.FirstShownDate, LastShownDate: r.LastShownDate,
				Status: r.Status, StatusStatement: r.StatusStatement, ReachText: r.ReachText,
				Coverage: read, Provenance: r.Provenance,
			}
		}
		if err := sink.WriteParquet(c.Folder.ObservationPart(sh.Partition, sh.Stem, st.Restarts, n), out); err != nil {
			return fmt.Errorf("%s: keep the observations of part %d: %w", sh.ID, n, err)
		}
	}
	return nil
}
