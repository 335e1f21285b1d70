package media

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/sink"
)

// Summary is what a folder's media archive holds, counted per distinct URL
// that the tables link to: each URL is in exactly one of OK, Expired,
// Removed, TooLarge, Failed and Pending (never tried, or stored and since
// lost).
type Summary struct {
	// Links counts the links (rows of media_links), URLs the distinct URLs.
	Links, URLs                                     int
	OK, Expired, Removed, TooLarge, Failed, Pending int
	// Files and Bytes are the distinct stored files of the ok URLs.
	Files int
	Bytes int64
	// Countries splits the URLs by the country their items were found in
	// (an ad's details count in the countries of its ads rows); a URL
	// linked from two countries counts in both. Sorted by country.
	Countries []CountrySummary
	// Live is set when another process holds the checkpoint: the figures
	// are then those of the tables as the last media run wrote them.
	Live bool
	AsOf time.Time
}

// Owed counts the URLs the next media run will try: pending and failed.
func (s Summary) Owed() int { return s.Pending + s.Failed }

// String is the summary on one line, for status: "812 of 900 linked files
// archived (95 MiB in 790 files); 40 expired, 38 removed, 6 too large,
// 4 failed, 12 not tried yet".
func (s Summary) String() string {
	return fmt.Sprintf("%d of %d linked files archived (%s in %d files); %d expired, %d removed, %d too large, %d failed, %d not tried yet",
		s.OK, s.URLs, FormatBytes(s.Bytes), s.Files, s.Expired, s.Removed, s.TooLarge, s.Failed, s.Pending)
}

// Archived is the share of URLs stored, 0 without URLs.
func (s Summary) Archived() float64 {
	if s.URLs == 0 {
		return 0
	}
	return float64(s.OK) / float64(s.URLs)
}

// CountrySummary is one country's URLs by status. Country is "" for links
// whose item has no country (details of an ad no ads row names).
type CountrySummary struct {
	Country                                               string
	URLs, OK, Expired, Removed, TooLarge, Failed, Pending int
}

// Owed counts the country's URLs the next media run will try.
func (c CountrySummary) Owed() int { return c.Pending + c.Failed }

// ReadSummary summarises the media of the output folder dir without
// changing anything, for status and report: the links of every part the
// checkpoint names against the media states. When a running harvest or
// media run holds the checkpoint, it answers from the tables media and
// media_links as last written (Live). A folder without a checkpoint is an
// error wrapping ErrNoHarvest.
func ReadSummary(dir string) (Summary, error) {
	f := folder.New(dir)
	store, err := checkpoint.OpenReadOnly(f.Checkpoint())
	switch {
	case errors.Is(err, checkpoint.ErrBusy):
		return TableSummary(dir)
	case errors.Is(err, fs.ErrNotExist):
		return Summary{}, fmt.Errorf("%s: %w", dir, ErrNoHarvest)
	case err != nil:
		return Summary{}, err
	}
	defer store.Close()
	links, states, present, err := collect(f, store)
	if err != nil {
		return Summary{}, err
	}
	return summarize(links, states, present, time.Now()), nil
}

// collect reads the links of every part the checkpoint names, the media
// states and which stored files are on disk.
func collect(f folder.Folder, store *checkpoint.Store) ([]sink.MediaLinkRow, map[string]checkpoint.Media, map[string]bool, error) {
	v, err := store.Meta(metaAvatars)
	if err != nil {
		return nil, nil, nil, err
	}
	parts, err := committedParts(f, store)
	if err != nil {
		return nil, nil, nil, err
	}
	var links []sink.MediaLinkRow
	for _, p := range parts {
		l, err := PartLinks(p.table, p.path, p.country, len(v) > 0)
		if err != nil {
			continue // a missing or damaged part: status and check name it
		}
		links = append(links, l...)
	}
	states := map[string]checkpoint.Media{}
	present := map[string]bool{}
	err = store.EachMedia(func(m checkpoint.Media) error {
		states[m.URL] = m
		if m.Status == checkpoint.MediaOK {
			if _, seen := present[m.Path]; !seen {
				_, serr := os.Stat(f.Abs(m.Path))
				present[m.Path] = serr == nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return dedupLinks(links), states, present, nil
}

// Refresh rewrites the tables media and media_links from the parts the
// checkpoint names and the media states, without a request: a harvest calls
// it at the end of every run (as it rewrites the coverage table), so that the
// tables follow the parts whether or not media are downloaded. The caller
// holds the folder's lock and has the store open.
func Refresh(f folder.Folder, store *checkpoint.Store, now time.Time) (Summary, error) {
	links, states, present, err := collect(f, store)
	if err != nil {
		return Summary{}, err
	}
	if err := writeTables(f, mediaRows(links, states, present, now), links); err != nil {
		return Summary{}, err
	}
	return summarize(links, states, present, now), nil
}

// TableSummary is the Summary of the tables media and media_links as the
// last media run wrote them (Live set), without opening the checkpoint: for
// status while a harvest holds it. A folder without them has an empty one.
func TableSummary(dir string) (Summary, error) {
	f := folder.New(dir)
	read := func(t sink.Table) (string, bool) {
		p := TablePath(f, t)
		_, err := os.Stat(p)
		return p, err == nil
	}
	s := Summary{Live: true}
	lp, ok := read(sink.MediaLinks)
	if !ok {
		return s, nil
	}
	links, err := sink.ReadParquet[sink.MediaLinkRow](lp)
	if err != nil {
		return s, err
	}
	states := map[string]checkpoint.Media{}
	present := map[string]bool{}
	if mp, ok := read(sink.Media); ok {
		rows, err := sink.ReadParquet[sink.MediaRow](mp)
		if err != nil {
			return s, err
		}
		for _, r := range rows {
			m := checkpoint.Media{URL: r.URL, Status: r.Status, SHA256: deref(r.SHA256), Path: deref(r.Path)}
			if r.Bytes != nil {
				m.Bytes = *r.Bytes
			}
			states[r.URL] = m
			present[m.Path] = true
		}
	}
	fi, _ := os.Stat(lp)
	s = summarize(links, states, present, fi.ModTime())
	s.Live = true
	return s, nil
}

// outcome is how url stands for the tables: its state, or, for a link not
// tried yet whose x-expires is past, the expired state a try would record
// without a request. ok is false when there is nothing to say yet: never
// tried, or stored and the file since lost.
func outcome(url string, states map[string]checkpoint.Media, present map[string]bool, now time.Time) (checkpoint.Media, bool) {
	m, ok := states[url]
	switch {
	case ok && m.Status == checkpoint.MediaOK && !present[m.Path]:
		return m, false
	case ok:
		return m, true
	}
	if exp, has := expiresAt(url); has && !exp.After(now) {
		return expiredUnasked(url, exp), true
	}
	return m, false
}

// expiredUnasked is the state of a link whose x-expires is past at the
// time it is judged: expired, with no request.
func expiredUnasked(url string, exp time.Time) checkpoint.Media {
	return checkpoint.Media{URL: url, Status: checkpoint.MediaExpired, Err: "x-expires " + exp.Format(time.RFC3339) + " is in the past; not asked"}
}

// statusOf is a URL's status for a summary: "pending" when there is
// nothing to say yet.
func statusOf(url string, states map[string]checkpoint.Media, present map[string]bool, now time.Time) (checkpoint.Media, string) {
	m, ok := outcome(url, states, present, now)
	if !ok {
		return m, "pending"
	}
	return m, m.Status
}

// summarize counts links against states.
func summarize(links []sink.MediaLinkRow, states map[string]checkpoint.Media, present map[string]bool, now time.Time) Summary {
	s := Summary{Links: len(links), AsOf: now.UTC()}
	// The countries of each ad, from its ads rows, for its details' links.
	adCountries := map[int64]map[string]bool{}
	for _, l := range links {
		if l.SourceTable == sink.Ads.Name && l.AdID != nil && l.CountryCode != nil {
			if adCountries[*l.AdID] == nil {
				adCountries[*l.AdID] = map[string]bool{}
			}
			adCountries[*l.AdID][*l.CountryCode] = true
		}
	}
	countriesOf := map[string]map[string]bool{}
	var urls []string
	for _, l := range links {
		cs := countriesOf[l.URL]
		if cs == nil {
			cs = map[string]bool{}
			countriesOf[l.URL] = cs
			urls = append(urls, l.URL)
		}
		switch {
		case l.CountryCode != nil:
			cs[*l.CountryCode] = true
		case l.AdID != nil && len(adCountries[*l.AdID]) > 0:
			for c := range adCountries[*l.AdID] {
				cs[c] = true
			}
		default:
			cs[""] = true
		}
	}
	byCountry := map[string]*CountrySummary{}
	files := map[string]bool{}
	for _, u := range urls {
		m, st := statusOf(u, states, present, now)
		s.URLs++
		count(st, &s.OK, &s.Expired, &s.Removed, &s.TooLarge, &s.Failed, &s.Pending)
		if st == checkpoint.MediaOK && !files[m.Path] {
			files[m.Path] = true
			s.Files++
			s.Bytes += m.Bytes
		}
		for c := range countriesOf[u] {
			cs := byCountry[c]
			if cs == nil {
				cs = &CountrySummary{Country: c}
				byCountry[c] = cs
			}
			cs.URLs++
			count(st, &cs.OK, &cs.Expired, &cs.Removed, &cs.TooLarge, &cs.Failed, &cs.Pending)
		}
	}
	for _, c := range byCountry {
		s.Countries = append(s.Countries, *c)
	}
	sort.Slice(s.Countries, func(i, j int) bool { return s.Countries[i].Country < s.Countries[j].Country })
	return s
}

func count(status string, ok, expired, removed, tooLarge, failed, pending *int) {
	switch status {
	case checkpoint.MediaOK:
		*ok++
	case checkpoint.MediaExpired:
		*expired++
	case checkpoint.MediaRemoved:
		*removed++
	case checkpoint.MediaTooLarge:
		*tooLarge++
	case checkpoint.MediaFailed:
		*failed++
	default:
		*pending++
	}
}
