package media

import (
	"fmt"
	"path/filepath"
	"sort"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/sink"
)

// TablePath is where a media table (sink.Media or sink.MediaLinks) is
// written: one file at the top of the table's folder, replaced whole.
func TablePath(f folder.Folder, t sink.Table) string {
	return filepath.Join(f.TableDir(t), t.Name+folder.PartExt)
}

// writeTables replaces both tables, each atomically.
func writeTables(f folder.Folder, rows []sink.MediaRow, links []sink.MediaLinkRow) error {
	if err := sink.WriteParquet(TablePath(f, sink.Media), rows); err != nil {
		return fmt.Errorf("media table: %w", err)
	}
	if err := sink.WriteParquet(TablePath(f, sink.MediaLinks), links); err != nil {
		return fmt.Errorf("media_links table: %w", err)
	}
	return nil
}

// linkKey is a link's identity (sink.MediaLinks.Key).
type linkKey struct {
	table, content, country, url string
	ad                           int64
	hasAd, hasCountry            bool
}

func keyOf(l sink.MediaLinkRow) linkKey {
	k := linkKey{table: l.SourceTable, url: l.URL, content: deref(l.ContentID)}
	if l.AdID != nil {
		k.ad, k.hasAd = *l.AdID, true
	}
	if l.CountryCode != nil {
		k.country, k.hasCountry = *l.CountryCode, true
	}
	return k
}

// dedupLinks keeps each link once, from the newest row that holds it (then
// the greatest run_id, so that the choice never depends on the order the
// parts were read in), sorted by table, item, country and URL.
func dedupLinks(all []sink.MediaLinkRow) []sink.MediaLinkRow {
	best := make(map[linkKey]int, len(all))
	out := make([]sink.MediaLinkRow, 0, len(all))
	for _, l := range all {
		k := keyOf(l)
		i, seen := best[k]
		switch {
		case !seen:
			best[k] = len(out)
			out = append(out, l)
		case newer(l, out[i]):
			out[i] = l
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := keyOf(out[i]), keyOf(out[j])
		switch {
		case a.table != b.table:
			return a.table < b.table
		case a.ad != b.ad:
			return a.ad < b.ad
		case a.content != b.content:
			return a.content < b.content
		case a.country != b.country:
			return a.country < b.country
		}
		return a.url < b.url
	})
	return out
}

func newer(a, b sink.MediaLinkRow) bool {
	switch {
	case !a.FetchedAt.Equal(b.FetchedAt):
		return a.FetchedAt.After(b.FetchedAt)
	case a.RunID != b.RunID:
		return a.RunID > b.RunID
	}
	return a.Field < b.Field
}

// mediaRow is the table row of a state.
func mediaRow(m checkpoint.Media, kind string) sink.MediaRow {
	r := sink.MediaRow{URL: m.URL, Status: m.Status, Kind: kind, Host: hostOf(m.URL), Attempts: int32(m.Attempts), RunID: m.RunID}
	str := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	if m.Status == checkpoint.MediaOK {
		sum, n, p := m.SHA256, m.Bytes, m.Path
		r.SHA256, r.Bytes, r.Path = &sum, &n, &p
	}
	r.ContentType, r.SourceURL, r.Error = str(m.ContentType), str(m.SourceURL), str(m.Err)
	if m.HTTPStatus != 0 {
		c := int32(m.HTTPStatus)
		r.HTTPStatus = &c
	}
	if !m.FetchedAt.IsZero() {
		at := m.FetchedAt.UTC()
		r.FetchedAt = &at
	}
	if exp, ok := expiresAt(m.URL); ok {
		r.ExpiresAt = &exp
	}
	if m.ContentLength > 0 {
		n := m.ContentLength
		r.ContentLength = &n
	}
	return r
}
