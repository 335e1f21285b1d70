package crawl

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/sink"
)

// DetailIDs lists the distinct ad ids the ads dataset found, newest first (by
// last then first shown date, then id), so that a capped run spends its
// budget on the ads researchers usually want first. It reads the checkpoint's
// ad index, which names exactly the committed ads parts.
func DetailIDs(store *checkpoint.Store) ([]int64, error) {
	return detailIDs(store.Ads)
}

// detailIDs orders the ads that eachAd reports as DetailIDs does.
func detailIDs(eachAd func(func(checkpoint.AdSeen)) error) ([]int64, error) {
	type dates struct{ first, last int32 }
	seen := map[int64]dates{}
	err := eachAd(func(a checkpoint.AdSeen) {
		d, ok := seen[a.ID]
		if !ok {
			d = dates{checkpoint.NoDay, checkpoint.NoDay}
		}
		d.first, d.last = max(d.first, a.First), max(d.last, a.Last)
		seen[a.ID] = d
	})
	if err != nil {
		return nil, fmt.Errorf("list ads for details: %w", err)
	}
	ids := make([]int64, 0, len(seen))
	for id := range seen {
		ids = append(ids, id)
	}
	// NoDay is the smallest int32, so unknown dates sort last, as NULLS LAST.
	sort.Slice(ids, func(i, j int) bool {
		a, b := seen[ids[i]], seen[ids[j]]
		if a.last != b.last {
			return a.last > b.last
		}
		if a.first != b.first {
			return a.first > b.first
		}
		return ids[i] > ids[j]
	})
	return ids, nil
}

// DetailsOwed counts the ads the ads dataset found whose details are neither
// fetched nor refused for good, and those refused. A checkpoint opened read-only
// that predates the ad index is answered from the ads parts of folder f.
func DetailsOwed(f folder.Folder, store *checkpoint.Store) (owed, failed int, err error) {
	eachAd := store.Ads
	if ok, err := store.AdIndexed(); err != nil {
		return 0, 0, err
	} else if !ok {
		eachAd = func(each func(checkpoint.AdSeen)) error { return eachAdOfParts(f, store, each) }
	}
	ids, err := detailIDs(eachAd)
	if err != nil {
		return 0, 0, err
	}
	done, err := store.Done()
	if err != nil {
		return 0, 0, err
	}
	for _, id := range ids {
		if _, ok := done[id]; !ok {
			owed++
		}
	}
	for _, v := range done {
		if v != "ok" {
			failed++
		}
	}
	return owed, failed, nil
}

// backfillAdIndex fills the ad index of a checkpoint written before the index
// existed, once, from the committed ads parts themselves (read with
// parquet-go).
func backfillAdIndex(f folder.Folder, store *checkpoint.Store) error {
	ok, err := store.AdIndexed()
	if err != nil || ok {
		return err
	}
	err = eachAdsPart(f, store, func(id string, n int, ads []checkpoint.AdSeen) error {
		return store.IndexAds(id, n, ads)
	})
	if err != nil {
		return err
	}
	return store.MarkAdIndexed()
}

// eachAdsPart reads every committed ads part named by the checkpoint.
func eachAdsPart(f folder.Folder, store *checkpoint.Store, each func(id string, n int, ads []checkpoint.AdSeen) error) error {
	states, err := store.Shards()
	if err != nil {
		return err
	}
	for _, st := range states {
		if st.Dataset != adsDataset.name {
			continue
		}
		for n := 0; n < st.Parts; n++ {
			path, err := adsPartPath(f, st.ID, n)
			if err != nil {
				return err
			}
			ads, err := readAdsPart(path)
			if err != nil {
				return fmt.Errorf("index the ads of %s: %w", path, err)
			}
			if err := each(st.ID, n, ads); err != nil {
				return err
			}
		}
	}
	return nil
}

func eachAdOfParts(f folder.Folder, store *checkpoint.Store, each func(checkpoint.AdSeen)) error {
	return eachAdsPart(f, store, func(_ string, _ int, ads []checkpoint.AdSeen) error {
		for _, a := range ads {
			each(a)
		}
		return nil
	})
}

// adsPartPath is part n of the ads shard with the given id
// ("ads/FR/20240101-20240107_all").
func adsPartPath(f folder.Folder, id string, n int) (string, error) {
	rest, ok := cutPrefix(id, sink.Ads.Name+"/")
	partition, stem := filepath.Split(rest)
	if !ok || partition == "" || stem == "" {
		return "", fmt.Errorf("ads shard id %q is not table/partition/stem", id)
	}
	return f.Part(sink.Ads, partition[:len(partition)-1], stem, n), nil
}

func cutPrefix(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
		return s[len(prefix):], true
	}
	return s, false
}

// adDates is the part of an ads row the index needs; parquet-go reads just
// these columns.
type adDates struct {
	AdID           int64  `parquet:"ad_id"`
	FirstShownDate *int32 `parquet:"first_shown_date,date,optional"`
	LastShownDate  *int32 `parquet:"last_shown_date,date,optional"`
}

func readAdsPart(path string) ([]checkpoint.AdSeen, error) {
	rows, err := sink.ReadParquet[adDates](path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil // a part whose pages held no ad writes no file
	}
	if err != nil {
		return nil, err
	}
	out := make([]checkpoint.AdSeen, len(rows))
	for i, r := range rows {
		out[i] = adSeen(r.AdID, r.FirstShownDate, r.LastShownDate)
	}
	return out, nil
}
