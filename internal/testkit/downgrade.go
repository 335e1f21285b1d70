package testkit

import (
	"strings"
	"testing"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/sink"
)

// DowngradeAdsParts rewrites every ads part as a parser of schema version 1
// would have: without the newer fields, registered as such.
func DowngradeAdsParts(t *testing.T, dir string) {
	t.Helper()
	f := folder.New(dir)
	store, err := checkpoint.Open(f.Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	byShard := map[string][]checkpoint.File{}
	err = store.Files(func(rec checkpoint.File) error {
		if rec.Raw || !strings.HasPrefix(rec.Path, sink.Ads.Name+"/") {
			return nil
		}
		rows, err := sink.ReadParquet[sink.AdRow](f.Abs(rec.Path))
		if err != nil {
			return err
		}
		for i := range rows {
			a := &rows[i].AdFields
			a.Title, a.ExternalURL, a.DownloadURL, a.CallToAction, a.AdvertisingObjective = nil, nil, nil, nil, nil
			a.Videos = []sink.AdVideo{}
		}
		sum, err := sink.WriteParquetSum(f.Abs(rec.Path), rows)
		if err != nil {
			return err
		}
		rec.Size, rec.SHA256, rec.Schema = sum.Size, sum.SHA256, "1"
		byShard[rec.Shard] = append(byShard[rec.Shard], rec)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(byShard) == 0 {
		t.Fatal("no ads parts to downgrade")
	}
	for id, files := range byShard {
		if err := store.RegisterFiles(id, files); err != nil {
			t.Fatal(err)
		}
	}
}
