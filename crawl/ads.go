package crawl

import (
	"adharvest/checkpoint"
	"adharvest/job"
	"adharvest/sink"
	"adharvest/tiktok/api"
)

var adsDataset = &dataset{
	name:     job.Ads,
	table:    sink.Ads,
	endpoint: api.EndpointAdQuery,
	paged:    true,
	decode: decoder(api.DecodeAdQuery, func(d api.AdQueryPage) pageInfo {
		return pageInfo{items: len(d.Ads), rejects: len(d.Rejects), page: d.Page}
	}),
	write: writeAds,
}

// writeAds decodes ad/query pages into rows. An ad repeated within the pages
// (the API pages over a live index) is written once.
func writeAds(pw *partWriter, sh *Shard, pages []fetched) (written, error) {
	var rows []sink.AdRow
	var rejects []sink.RejectRow
	var overlap int64
	seen := map[int64]bool{}
	eachPage(pages, func(p checkpoint.Page, d api.AdQueryPage) {
		rejects = append(rejects, rejectRows(sh, p, d.Rejects)...)
		for _, a := range d.Ads {
			if !a.Ad.ID.Valid || seen[a.Ad.ID.V] {
				continue
			}
			seen[a.Ad.ID.V] = true
			if sh.exclude[a.Ad.ID.V] {
				overlap++ // the slice before it holds this ad already
				continue
			}
			rows = append(rows, sink.AdRow{
				AdFields:   adFields(a.Ad.ID.V, a.Ad, a.Advertiser),
				Provenance: sh.provenance(p),
			})
		}
	})
	if err := writeRejects(pw, rejects); err != nil {
		return written{}, err
	}
	w, err := writeTable(pw, sh.ds.table, rows)
	if err != nil {
		return w, err
	}
	w.overlap = overlap
	w.ads = make([]checkpoint.AdSeen, len(rows))
	for i, r := range rows {
		w.ads[i] = adSeen(r.AdID, r.FirstShownDate, r.LastShownDate)
	}
	return w, nil
}

// pageAds lists the ads of a decoded ad/query page, for the detail fan-out.
func pageAds(data any) []checkpoint.AdSeen {
	d, _ := data.(api.AdQueryPage)
	out := make([]checkpoint.AdSeen, 0, len(d.Ads))
	for _, a := range d.Ads {
		out = append(out, checkpoint.AdSeen{ID: a.Ad.ID.V})
	}
	return out
}

// adSeen is an ad's entry in the checkpoint's ad index.
func adSeen(id int64, first, last *int32) checkpoint.AdSeen {
	a := checkpoint.AdSeen{ID: id, First: checkpoint.NoDay, Last: checkpoint.NoDay}
	if first != nil {
		a.First = *first
	}
	if last != nil {
		a.Last = *last
	}
	return a
}

// adFields maps what ad/query and ad/detail both send about an ad onto the
// columns the ads and ad_details tables share.
func adFields(id int64, a api.Ad, adv api.Advertiser) sink.AdFields {
	reach := api.ParseBounds(string(a.Reach.UniqueUsersSeen))
	return sink.AdFields{
		AdID:            id,
		FirstShownDate:  sink.DayPtr(a.FirstShownDate.Ptr()),
		LastShownDate:   sink.DayPtr(a.LastShownDate.Ptr()),
		Status:          a.Status.Ptr(),
		StatusStatement: a.StatusStatement.Ptr(),
		VideoURLs:       a.VideoURLs(),
		ImageURLs:       nonNil(a.ImageURLs),
		ReachText:       a.Reach.UniqueUsersSeen.Ptr(),
		ReachLower:      reach.Lower,
		ReachUpper:      reach.Upper,
		BusinessID:      adv.BusinessID.Ptr(),
		BusinessName:    adv.BusinessName.Ptr(),
		PaidForBy:       adv.PaidForBy.Ptr(),
		Videos:          adVideos(a.Videos),

		Title:                a.Title.Ptr(),
		ExternalURL:          a.ExternalURL.Ptr(),
		DownloadURL:          a.DownloadURL.Ptr(),
		CallToAction:         a.CallToAction.Ptr(),
		AdvertisingObjective: a.AdvertisingObjective.Ptr(),
	}
}

func adVideos(vs []api.Video) []sink.AdVideo {
	out := make([]sink.AdVideo, 0, len(vs))
	for _, v := range vs {
		out = append(out, sink.AdVideo{URL: v.URL.Ptr(), CoverImageURL: v.CoverImageURL.Ptr()})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
