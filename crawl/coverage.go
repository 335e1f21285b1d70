package crawl

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/manifest"
	"adharvest/sink"
)

// The completeness audit. ad/report counts, per country and day, the ads
// published; every slice planned from it knows how many ads it should return,
// and so how complete it is. Slices that no report counts exactly (a search
// term, ALL countries, commercial content) are unverified, and say so.

// coverage lists one row per slice of the plan known so far (a slice queried
// again as two halves is represented by its halves), and one pending row per
// track whose report has not come back yet.
func coverage(f folder.Folder, store *checkpoint.Store, p *plan, now time.Time) ([]sink.CoverageRow, error) {
	shards, waiting := knownShards(f, store, p, 0, now)
	var rows []sink.CoverageRow
	for _, sh := range shards {
		if sh.ds != adsDataset && sh.ds != contentDataset {
			continue
		}
		st, ok, err := store.Shard(sh.ID)
		if err != nil {
			return nil, err
		}
		if ok && len(st.Split) > 0 && st.Narrowed == "" {
			continue // its halves stand for it
		}
		row := sink.CoverageRow{
			Dataset: sh.Dataset, CountryCode: sh.Partition, SearchTerm: sh.Term, SliceID: sh.ID,
			Planned: sh.Planned, Status: CoverPending, ReadStatus: CoverPending,
		}
		w := sh.Window
		if ok && st.Narrowed != "" {
			w.From = dayOf(st.Narrowed).AddDate(0, 0, 1) // the rest is its successor's
		}
		if !w.From.IsZero() {
			row.WindowStart, row.WindowEnd = sink.Day(w.From), sink.Day(w.To)
		}
		if sh.Planned == "report" || sh.Planned == "half" {
			e := sh.Expected
			row.Reported = &e
		}
		if ok {
			if st.Expected != nil {
				row.Reported = st.Expected
			}
			row.Harvested, row.Status = harvested(st), coverageOf(st, Provisional(sh, st))
			row.ReadStatus = coverageOf(st, false)
			row.Pages, row.Requests = int64(st.Pages), int64(st.Requests)
			if st.Reason != "" {
				r := st.Reason
				row.Reason = &r
			}
			at := st.UpdatedAt.UTC()
			row.UpdatedAt = &at
		}
		rows = append(rows, row)
	}
	for _, tr := range waitingTracks(f, store, p, now, waiting) {
		rows = append(rows, sink.CoverageRow{
			Dataset: tr.ds.name, CountryCode: tr.country, SearchTerm: tr.term, SliceID: tr.report + " (planning)",
			WindowStart: sink.Day(tr.from), WindowEnd: sink.Day(tr.to), Status: CoverPending, ReadStatus: CoverPending, Planned: "report",
		})
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Dataset != b.Dataset {
			return a.Dataset < b.Dataset
		}
		if a.CountryCode != b.CountryCode {
			return a.CountryCode < b.CountryCode
		}
		return a.SliceID < b.SliceID
	})
	return rows, nil
}

// waitingTracks are the tracks whose report has not come back.
func waitingTracks(f folder.Folder, store *checkpoint.Store, p *plan, now time.Time, n int) []*track {
	if n == 0 {
		return nil
	}
	ceiling := p.job.SliceAds
	if ceiling <= 0 {
		ceiling = DefaultCeiling
	}
	x := sliceCtx{f: f, store: store, pageSize: p.job.MaxCount, ceiling: ceiling, now: now}
	var out []*track
	for _, tr := range p.tracks {
		if _, wait, err := x.expandTrack(tr); err == nil && wait {
			out = append(out, tr)
		}
	}
	return out
}

// coveragePath is where the coverage table lives.
func coveragePath(f folder.Folder) string {
	return filepath.Join(f.TableDir(sink.Coverage), sink.Coverage.Name+folder.PartExt)
}

// writeCoverage replaces the coverage table with the plan's slices as the
// checkpoint says they stand.
func writeCoverage(f folder.Folder, store *checkpoint.Store, p *plan, now time.Time) (manifest.Coverage, error) {
	rows, err := coverage(f, store, p, now)
	if err != nil {
		return manifest.Coverage{}, err
	}
	if err := sink.WriteParquet(coveragePath(f), rows); err != nil {
		return manifest.Coverage{}, fmt.Errorf("coverage table: %w", err)
	}
	return summarize(rows), nil
}

// summarize is the overall figure of a coverage table.
func summarize(rows []sink.CoverageRow) manifest.Coverage {
	c := manifest.Coverage{Statuses: map[string]int{}}
	for _, r := range rows {
		c.Slices++
		c.Statuses[r.Status]++
		if r.Reported != nil && (r.Status == CoverComplete || r.Status == CoverShort) {
			c.Reported += *r.Reported
			c.Verified += min(r.Harvested, *r.Reported)
		}
		c.Harvested += r.Harvested
	}
	return c
}

// CountryCoverage is one dataset and country of the coverage table, summed.
type CountryCoverage struct {
	Dataset, Country    string
	Slices              int
	Statuses            map[string]int
	Reported, Harvested int64
	Exact               bool // every slice has an exact report
}

// ByCountry sums coverage rows per dataset and country.
func ByCountry(rows []sink.CoverageRow) []CountryCoverage {
	idx := map[[2]string]*CountryCoverage{}
	var out []*CountryCoverage
	for _, r := range rows {
		k := [2]string{r.Dataset, r.CountryCode}
		c := idx[k]
		if c == nil {
			c = &CountryCoverage{Dataset: r.Dataset, Country: r.CountryCode, Statuses: map[string]int{}, Exact: true}
			idx[k] = c
			out = append(out, c)
		}
		c.Slices++
		c.Statuses[r.Status]++
		c.Harvested += r.Harvested
		if r.Reported != nil {
			c.Reported += *r.Reported
		}
		if r.Status == CoverUnverified || r.Reported == nil {
			c.Exact = false
		}
	}
	res := make([]CountryCoverage, len(out))
	for i, c := range out {
		res[i] = *c
	}
	return res
}
