package report

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"adharvest/job"
	"adharvest/media"
)

// MediaView is the Creatives section: the videos, images and covers the
// tables link to, and how their download ended (the media-by-country
// analysis over the views media and media_links).
type MediaView struct {
	// Has is set when the tables link to at least one creative; the section
	// shows only then.
	Has bool
	// NotArchived, when set, is the one line the section shows instead of
	// the figures: the folder's creatives were never fetched (harvested
	// without the media dataset, and no adharvest media since).
	NotArchived string
	Total       MediaCount
	Countries   []MediaCount
	Chart       *Chart
	// Summary is the section's first sentence, Owed the sentence naming the
	// command that fetches what is still owed ("" when nothing is).
	Summary string
	Owed    string
}

// MediaCount is the creatives of all countries or of one, by status.
type MediaCount struct {
	Code, Name                                      string
	Creatives, Archived, Expired, Removed, TooLarge int64
	Failed, Pending, Files                          int64
	Bytes                                           string // of the stored files
	Share                                           string // archived of creatives
	NoCountry                                       bool   // linked from items with no country
	AllCountries                                    bool
}

// owed is what the next media run tries: failed and not tried yet.
func (c MediaCount) owed() int64 { return c.Failed + c.Pending }

// triedAny reports whether a media run has tried any creative: expired
// ones do not count, as a harvest records an x-expires already past too.
func (c MediaCount) triedAny() bool { return c.Archived+c.Removed+c.TooLarge+c.Failed > 0 }

// mediaStatuses are the statuses in the chart, from its base up, with their
// colours and the words the page uses for them.
var mediaStatuses = []struct{ name, color string }{
	{"archived", "#59a14f"},
	{"expired", "#edc948"},
	{"removed", "#e15759"},
	{"too large", "#b07aa1"},
	{"failed", "#f28e2b"},
	{"pending", "#bab0ac"},
}

func (c MediaCount) byStatus() []int64 {
	return []int64{c.Archived, c.Expired, c.Removed, c.TooLarge, c.Failed, c.Pending}
}

// media fills the Creatives section.
func (p *Page) media(ctx context.Context, db *sql.DB) error {
	mv := &p.Media
	err := run(ctx, db, "media-by-country", 0, func(r record) error {
		c := MediaCount{
			Code: r.str("country_code"), AllCountries: r.boolean("all_countries"),
			Creatives: r.int("creatives"), Archived: r.int("archived"), Expired: r.int("expired"), Removed: r.int("removed"),
			TooLarge: r.int("too_large"), Failed: r.int("failed"), Pending: r.int("pending"), Files: r.int("files"),
			Bytes: media.FormatBytes(r.int("bytes")),
		}
		if c.Creatives > 0 {
			c.Share = percent(float64(c.Archived) / float64(c.Creatives))
		}
		switch {
		case c.AllCountries:
			c.Name = "all countries"
			mv.Total = c
		case c.Code == "":
			c.NoCountry, c.Name = true, "no country (details of ads no ads row names)"
			mv.Countries = append(mv.Countries, c)
		default:
			c.Name = countryLabel(c.Code)
			mv.Countries = append(mv.Countries, c)
		}
		return nil
	})
	if err != nil {
		return err
	}
	t := mv.Total
	mv.Has = t.Creatives > 0
	if !mv.Has {
		return nil
	}
	fetch := "adharvest media --out " + p.Dir
	if !p.inJob(job.Media) && !t.triedAny() {
		if t.Expired == t.Creatives {
			mv.NotArchived = fmt.Sprintf("Not archived: the tables link to %s creative files, and every link has expired already, so they can no longer be downloaded. A harvest with the media dataset (--datasets …,media) fetches creatives while their links are fresh.", Int(t.Creatives))
		} else {
			mv.NotArchived = fmt.Sprintf("Not archived: the tables link to %s creative files, but this folder was harvested without the media dataset and adharvest media has not run on it. Signed links expire within days: %s downloads them.", Int(t.Creatives), fetch)
		}
		return nil
	}
	mv.Summary = fmt.Sprintf("%s of %s creatives linked are archived (%s), %s in %s files; %s expired, %s removed, %s too large, %s failed, %s not tried yet.",
		Int(t.Archived), Int(t.Creatives), t.Share, t.Bytes, Int(t.Files), Int(t.Expired), Int(t.Removed), Int(t.TooLarge), Int(t.Failed), Int(t.Pending))
	if n := t.owed(); n > 0 {
		mv.Owed = fmt.Sprintf("%s creatives are still owed (%s failed, %s not tried yet): %s fetches them.", Int(n), Int(t.Failed), Int(t.Pending), fetch)
	}

	cats := make([]string, len(mv.Countries))
	series := make([]Series, len(mediaStatuses))
	colors := make([]string, len(mediaStatuses))
	tips := make([][]string, len(mediaStatuses))
	for i, st := range mediaStatuses {
		series[i] = Series{Name: st.name, Values: make([]float64, len(cats))}
		colors[i] = st.color
		tips[i] = make([]string, len(cats))
	}
	for j, c := range mv.Countries {
		cats[j] = c.Code
		if c.NoCountry {
			cats[j] = "none"
		}
		for i, n := range c.byStatus() {
			series[i].Values[j] = float64(n)
			tips[i][j] = fmt.Sprintf("%s, %s: %s of %s creatives", cats[j], mediaStatuses[i].name, Int(n), Int(c.Creatives))
		}
	}
	mv.Chart = StackedBarChart("chart-media", "Creatives per country, by how their download ended",
		"Stacked bar chart, one bar per country: the distinct creatives (videos, images, covers) that the ads and posts found in that country link to, by status: archived (the file is kept), expired (the signed link was stale), removed (taken down: 404 or 410), too large (above the per-file cap), failed (tried again by the next media run) or pending (not tried yet).",
		"creatives", cats, series, colors, tips)
	return nil
}

// mediaCaveat is the banner's line about creatives a job with the media
// dataset still owes, "" when it owes none.
func (p *Page) mediaCaveat() string {
	t := p.Media.Total
	if !p.inJob(job.Media) || t.owed() == 0 {
		return ""
	}
	return fmt.Sprintf("Creatives: %s of %s linked files are not archived yet (%s failed, %s not tried); adharvest media --out %s tries them again while their links work.",
		Int(t.owed()), Int(t.Creatives), Int(t.Failed), Int(t.Pending), p.Dir)
}

// mediaCard is the glance card of the creatives archived, when the section
// has figures.
func (p *Page) mediaCard() (Card, bool) {
	mv := p.Media
	if !mv.Has || mv.NotArchived != "" {
		return Card{}, false
	}
	t := mv.Total
	var notes []string
	for _, x := range []struct {
		n    int64
		word string
	}{{t.Expired, "expired"}, {t.Removed, "removed"}, {t.owed(), "owed"}} {
		if x.n > 0 {
			notes = append(notes, Int(x.n)+" "+x.word)
		}
	}
	note := "of " + Int(t.Creatives) + " linked"
	if len(notes) > 0 {
		note += "; " + strings.Join(notes, ", ")
	}
	return Card{Label: "creatives archived", Value: Int(t.Archived), Note: note, Alert: t.owed() > 0}, true
}
