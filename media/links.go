package media

import (
	"fmt"
	"path/filepath"
	"sort"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/sink"
)

// Kinds of creative: what a link is in its item.
const (
	KindVideo  = "video"
	KindImage  = "image"
	KindCover  = "cover"
	KindAvatar = "avatar"
)

// Sources are the tables whose parts link to creatives.
var Sources = []sink.Table{sink.Ads, sink.AdDetails, sink.CommercialContent}

// IsSource reports whether table's parts link to creatives (AddPart takes
// them).
func IsSource(table string) bool {
	for _, t := range Sources {
		if t.Name == table {
			return true
		}
	}
	return false
}

// The columns read from the parts. Fields a file does not have read as
// empty, so these structs also read parts written before a column existed
// (videos on ads, download_url); readers fall back to the plain form when
// a newer file spells a column differently.
type videoRef struct {
	URL           *string `parquet:"url,optional"`
	CoverImageURL *string `parquet:"cover_image_url,optional"`
}

// provenance is what every row carries of its fetch.
type provenance struct {
	FetchedAt time.Time `parquet:"fetched_at,timestamp(microsecond)"`
	RunID     string    `parquet:"run_id"`
}

type adMedia struct {
	AdID        int64      `parquet:"ad_id"`
	VideoURLs   []string   `parquet:"video_urls,list"`
	ImageURLs   []string   `parquet:"image_urls,list"`
	Videos      []videoRef `parquet:"videos,list"`
	DownloadURL *string    `parquet:"download_url,optional"`
	AvatarURL   *string    `parquet:"avatar_url,optional"`
	provenance
}

type adMediaPlain struct {
	AdID      int64    `parquet:"ad_id"`
	VideoURLs []string `parquet:"video_urls,list"`
	ImageURLs []string `parquet:"image_urls,list"`
	provenance
}

type contentMedia struct {
	ContentID string     `parquet:"content_id"`
	Videos    []videoRef `parquet:"videos,list"`
	VideoURLs []string   `parquet:"video_urls,list"`
	provenance
}

// PartLinks reads the links of one part file of table t (ads, ad_details or
// commercial_content; any other table has none), found in the partition
// country (ads and commercial_content; "" for ad_details). A link appears
// once per item even when several fields hold it; avatars are read only when
// asked.
func PartLinks(t sink.Table, path, country string, avatars bool) ([]sink.MediaLinkRow, error) {
	var out []sink.MediaLinkRow
	var cc *string
	if country != "" {
		cc = &country
	}
	switch t.Name {
	case sink.Ads.Name, sink.AdDetails.Name:
		rows, err := sink.ReadParquet[adMedia](path)
		if err != nil {
			plain, perr := sink.ReadParquet[adMediaPlain](path)
			if perr != nil {
				return nil, err
			}
			rows = make([]adMedia, len(plain))
			for i, p := range plain {
				rows[i] = adMedia{AdID: p.AdID, VideoURLs: p.VideoURLs, ImageURLs: p.ImageURLs, provenance: p.provenance}
			}
		}
		for _, r := range rows {
			id := r.AdID
			l := linker{base: sink.MediaLinkRow{SourceTable: t.Name, AdID: &id, CountryCode: cc, FetchedAt: r.FetchedAt.UTC(), RunID: r.RunID}}
			for _, v := range r.Videos {
				l.add(deref(v.URL), "videos.url", KindVideo)
				l.add(deref(v.CoverImageURL), "videos.cover_image_url", KindCover)
			}
			for _, u := range r.VideoURLs {
				l.add(u, "video_urls", KindVideo)
			}
			for _, u := range r.ImageURLs {
				l.add(u, "image_urls", KindImage)
			}
			l.add(deref(r.DownloadURL), "download_url", KindVideo)
			if avatars {
				l.add(deref(r.AvatarURL), "avatar_url", KindAvatar)
			}
			out = append(out, l.rows...)
		}
	case sink.CommercialContent.Name:
		rows, err := sink.ReadParquet[contentMedia](path)
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			id := r.ContentID
			l := linker{base: sink.MediaLinkRow{SourceTable: t.Name, ContentID: &id, CountryCode: cc, FetchedAt: r.FetchedAt.UTC(), RunID: r.RunID}}
			for _, v := range r.Videos {
				l.add(deref(v.URL), "videos.url", KindVideo)
				l.add(deref(v.CoverImageURL), "videos.cover_image_url", KindCover)
			}
			for _, u := range r.VideoURLs {
				l.add(u, "video_urls", KindVideo)
			}
			out = append(out, l.rows...)
		}
	}
	return out, nil
}

// linker collects one item's links, each URL once.
type linker struct {
	base sink.MediaLinkRow
	seen map[string]bool
	rows []sink.MediaLinkRow
}

func (l *linker) add(raw, field, kind string) {
	u, ok := fileLink(raw)
	if !ok || l.seen[u] {
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	l.seen[u] = true
	r := l.base
	r.URL, r.Field, r.Kind = u, field, kind
	l.rows = append(l.rows, r)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// part is one committed part file of a source table.
type part struct {
	table   sink.Table
	path    string // absolute
	country string
}

// committedParts lists the source parts the checkpoint names (its file
// registry), or, for a checkpoint written before the registry, the parts the
// folder's globs match.
func committedParts(f folder.Folder, store *checkpoint.Store) ([]part, error) {
	var out []part
	registered := false
	if store != nil {
		ok, err := store.FilesRegistered()
		if err != nil {
			return nil, err
		}
		registered = ok
	}
	if registered {
		err := store.Files(func(rec checkpoint.File) error {
			if rec.Raw || !IsSource(rec.Table) {
				return nil
			}
			t, _ := sink.Lookup(rec.Table)
			p := f.Abs(rec.Path)
			out = append(out, part{table: t, path: p, country: folder.PartitionOf(t, p)})
			return nil
		})
		if err != nil {
			return nil, err
		}
	} else {
		globbed, err := globParts(f)
		if err != nil {
			return nil, err
		}
		out = globbed
	}
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out, nil
}

// globParts lists the source parts the folder's globs match.
func globParts(f folder.Folder) ([]part, error) {
	var out []part
	for _, t := range Sources {
		paths, err := filepath.Glob(f.Glob(t))
		if err != nil {
			return nil, fmt.Errorf("list %s parts: %w", t.Name, err)
		}
		for _, p := range paths {
			out = append(out, part{table: t, path: p, country: folder.PartitionOf(t, p)})
		}
	}
	return out, nil
}
