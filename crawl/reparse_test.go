package crawl_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"adharvest/checkpoint"
	"adharvest/crawl"
	"adharvest/folder"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/sink"
	"adharvest/tiktok/apitest"
)

// copyFolder copies a harvest folder as it is (cp -a keeps it exact).
func copyFolder(t *testing.T, from string) string {
	t.Helper()
	to := filepath.Join(t.TempDir(), "copy")
	if out, err := exec.Command("cp", "-a", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	return to
}

// shardCounts is what the checkpoint says each slice holds.
func shardCounts(t *testing.T, dir string) map[string]string {
	t.Helper()
	store, err := checkpoint.OpenReadOnly(folder.New(dir).Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	states, err := store.Shards()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, st := range states {
		out[st.ID] = testkit.JSON([]any{st.Status, st.Parts, st.Rows, st.Harvested, st.Overlap, st.Rejects})
	}
	return out
}

func reparse(t *testing.T, dir string) crawl.ReparseReport {
	t.Helper()
	rep, err := crawl.Reparse(context.Background(), dir, crawl.ReparseOptions{})
	if err != nil {
		t.Fatalf("reparse %s: %v", dir, err)
	}
	return rep
}

// TestReparseReproducesTheHarvest rebuilds every table from raw/ and
// requires them to equal the harvest's, row for row with every column
// (fetched_at and run_id come from the raw twins too), the checkpoint's
// counts to stand, the folder to check intact, and a resume to find nothing
// left to fetch. The healed case has slices that took over from a short one
// and must not write again the ads their predecessor holds.
func TestReparseReproducesTheHarvest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		opts   apitest.Options
		job    *job.Job
		tables []string
	}{
		{"every dataset", apitest.Options{Quirks: true}, testkit.EveryDatasetJob(), nil},
		{"healed halves", apitest.Options{Quirks: true, ShortPaging: &apitest.ShortPaging{Above: 130}},
			&job.Job{Datasets: []string{job.Ads, job.AdReports}, SliceAds: 200,
				Queries: []job.Query{{Countries: []string{"FR"}, From: "2023-01-01", To: "2023-02-28"}}},
			[]string{sink.Ads.Name, sink.AdReports.Name, sink.Rejects.Name}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := testkit.StartAPI(t, tc.opts)
			dir := t.TempDir()
			testkit.Harvest(t, srv, dir, tc.job)
			ref := copyFolder(t, dir)
			before := shardCounts(t, dir)
			sent := srv.Stats().DataRequests

			rep := reparse(t, dir)
			if rep.Parts == 0 || len(rep.Kept) != 0 || rep.OldSchema != 0 {
				t.Errorf("reparse report %+v: want every part decoded again, none kept, none old", rep)
			}
			if n := srv.Stats().DataRequests; n != sent {
				t.Errorf("reparse sent %d requests", n-sent)
			}
			testkit.SameTablesExactly(t, ref, dir, tc.tables...)
			if after := shardCounts(t, dir); testkit.JSON(after) != testkit.JSON(before) {
				t.Errorf("slice counts changed:\n got %v\nwant %v", after, before)
			}
			checkIntact(t, dir)
			for _, p := range []string{folder.New(dir).ReparseStage(), folder.New(dir).ReparseOld()} {
				if _, err := os.Stat(p); err == nil {
					t.Errorf("%s left behind", p)
				}
			}
			testkit.Harvest(t, srv, dir, nil)
			if n := srv.Stats().DataRequests; n != sent {
				t.Errorf("the harvest after reparse sent %d requests, want none", n-sent)
			}
			testkit.SameTablesExactly(t, ref, dir, tc.tables...)
		})
	}
}

func checkIntact(t *testing.T, dir string) {
	t.Helper()
	rep, err := crawl.Check(context.Background(), dir, false)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Intact() {
		t.Fatalf("check after reparse: %v", rep.Problems)
	}
}

// TestReparseUpgradesOlderParts plays a folder an older parser wrote: its
// ads parts lack the newer columns (title, cover images…), which the raw
// twins hold. status says so; reparse fills them in, from raw/ alone.
func TestReparseUpgradesOlderParts(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	dir := t.TempDir()
	testkit.Harvest(t, srv, dir, testkit.EveryDatasetJob())
	ref := copyFolder(t, dir)
	testkit.DowngradeAdsParts(t, dir)

	db := testkit.Open(t, dir)
	if n := testkit.Int(t, db, "SELECT count(title) FROM ads_all"); n != 0 {
		t.Fatalf("the downgraded folder still has %d titles", n)
	}
	db.Close()
	st := statusOf(t, dir)
	if st.OldSchema == 0 {
		t.Fatal("status does not say the folder holds files of an older parser")
	}

	rep := reparse(t, dir)
	if rep.OldSchema != st.OldSchema {
		t.Errorf("reparse saw %d old files, status %d", rep.OldSchema, st.OldSchema)
	}
	testkit.SameTablesExactly(t, ref, dir)
	db = testkit.Open(t, dir)
	if n := testkit.Int(t, db, "SELECT count(title) FROM ads_all"); n == 0 {
		t.Error("reparse did not bring the titles back")
	}
	db.Close()
	if st := statusOf(t, dir); st.OldSchema != 0 {
		t.Errorf("status still counts %d files of an older parser", st.OldSchema)
	}
	checkIntact(t, dir)
}

// TestReparseRefusesWhatIsNoHarvest: bad input is one line, and nothing is
// written.
func TestReparseRefusesWhatIsNoHarvest(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	_, err := crawl.Reparse(context.Background(), empty, crawl.ReparseOptions{})
	var ie *crawl.InputError
	if !errorsAs(err, &ie) || !strings.Contains(err.Error(), "holds no harvest") {
		t.Fatalf("reparse of an empty folder: %v, want an input error saying it holds no harvest", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("reparse wrote into a folder that holds no harvest: %v", entries)
	}
}

// TestRepairKeepsSearchTerms deletes the ads parts of a term search and
// repairs them from their raw twins: the rebuilt rows must say which term
// found them, as the harvest's did (the slice id names the term by a hash
// only, so it has to come from the requests kept in raw/).
func TestRepairKeepsSearchTerms(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	dir := t.TempDir()
	testkit.Harvest(t, srv, dir, testkit.EveryDatasetJob())
	ref := copyFolder(t, dir)
	parts, _ := filepath.Glob(filepath.Join(dir, sink.Ads.Name, "*", "*_q*"+folder.PartExt))
	if len(parts) == 0 {
		t.Fatal("no ads part of a term search")
	}
	for _, p := range parts {
		os.Remove(p)
	}
	rep, err := crawl.Check(context.Background(), dir, true)
	if err != nil || !rep.Intact() {
		t.Fatalf("repair: %v %v", err, rep.Problems)
	}
	testkit.SameTablesExactly(t, ref, dir)
}
