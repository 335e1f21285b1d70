package crawl_test

import (
	"context"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"adharvest/crawl"
	"adharvest/folder"
	"adharvest/internal/testkit"
	"adharvest/tiktok/apitest"
)

// dataFiles lists every Parquet part and raw twin under dir, relative to it.
func dataFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(p, folder.PartExt) || strings.HasSuffix(p, folder.RawExt)) {
			out = append(out, folder.New(dir).Rel(p))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

// firstFile is the first data file under dir whose relative path starts with prefix.
func firstFile(t *testing.T, dir, prefix, suffix string) string {
	t.Helper()
	for _, p := range dataFiles(t, dir) {
		if strings.HasPrefix(p, prefix) && strings.HasSuffix(p, suffix) {
			return filepath.Join(dir, filepath.FromSlash(p))
		}
	}
	t.Fatalf("no %s…%s file under %s", prefix, suffix, dir)
	return ""
}

// harvestEveryDataset harvests testkit.EveryDataset into a new folder.
func harvestEveryDataset(t *testing.T, srv *apitest.Server) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "out")
	testkit.Harvest(t, srv, dir, testkit.EveryDatasetJob())
	return dir
}

// Deleting the checkpoint used to make the next harvest sweep away every
// committed part before fetching anything (and a quota stop then left the
// folder empty). A folder with data and no checkpoint is refused before a
// request is sent, with a message naming both ways out, and loses nothing.
func TestFolderWithDataAndNoCheckpointIsRefused(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	dir := harvestEveryDataset(t, srv)
	before := dataFiles(t, dir)
	if err := os.Remove(folder.New(dir).Checkpoint()); err != nil {
		t.Fatal(err)
	}
	sent := srv.Stats().DataRequests
	for _, resume := range []bool{true, false} {
		j := testkit.EveryDatasetJob()
		if resume {
			j = nil
		}
		_, err := crawl.Run(context.Background(), testkit.Options(srv, dir, j))
		var ie *crawl.InputError
		if !errors.As(err, &ie) {
			t.Fatalf("resume %v: err %v, want an *InputError (bad input, exit 2)", resume, err)
		}
		for _, want := range []string{"no checkpoint", "check --out " + dir + " --repair", "--restart"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not name %q", err, want)
			}
		}
	}
	if n := srv.Stats().DataRequests - sent; n != 0 {
		t.Errorf("%d requests sent for a folder that was refused", n)
	}
	if after := dataFiles(t, dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Fatalf("the refused harvest changed the data: %d files before, %d after", len(before), len(after))
	}
}

// A truncated checkpoint used to panic inside bbolt (exit 2 from a Go panic
// in status and harvest), and --restart could not get past it.
func TestDamagedCheckpoint(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	dir := harvestEveryDataset(t, srv)
	f := folder.New(dir)
	b, err := os.ReadFile(f.Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	// Truncated past its meta pages: the pages the shards live on are gone
	// (bbolt's file is mostly free space at the end, so a shorter cut could
	// lose nothing).
	if err := os.WriteFile(f.Checkpoint(), b[:12<<10], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = crawl.Run(context.Background(), testkit.Options(srv, dir, nil))
	var de *crawl.DamageError
	if !errors.As(err, &de) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--repair") {
		t.Fatalf("harvest on a damaged checkpoint: %v; want one line naming --repair", err)
	}
	if _, err := crawl.ReadStatus(dir, time.Now()); err == nil {
		t.Fatal("status read a damaged checkpoint without complaint")
	}
	rep, err := crawl.Check(context.Background(), dir, false)
	if err != nil || rep.Intact() || !strings.Contains(rep.Problems[0].What, "damaged") {
		t.Fatalf("check: %+v, %v", rep, err)
	}

	// --restart sets it aside and harvests afresh.
	ref := harvestEveryDataset(t, srv)
	o := testkit.Options(srv, dir, nil)
	o.Restart = true
	if _, err := crawl.Run(context.Background(), o); err != nil {
		t.Fatalf("--restart over a damaged checkpoint: %v", err)
	}
	aside, _ := filepath.Glob(f.Checkpoint() + ".damaged-*")
	if len(aside) != 1 {
		t.Errorf("the damaged checkpoint was not kept aside: %v", aside)
	}
	testkit.SameTables(t, ref, dir)
}

// check verifies every file the checkpoint names and every data file in the
// folder; --repair rebuilds from the raw twins without a request.
func TestCheckAndRepair(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	ref := harvestEveryDataset(t, srv)
	dir := harvestEveryDataset(t, srv)
	ctx := context.Background()
	rep, err := crawl.Check(ctx, dir, false)
	if err != nil || !rep.Intact() || rep.Files < 20 {
		t.Fatalf("a fresh harvest: %+v, %v", rep, err)
	}

	// Damage: a deleted part, a part with a byte flipped, a part and its
	// raw twin both deleted, an unknown file and a temporary file.
	f := folder.New(dir)
	deleted := firstFile(t, dir, "ads/country_code=DE/", folder.PartExt)
	if err := os.Remove(deleted); err != nil {
		t.Fatal(err)
	}
	flipped := firstFile(t, dir, "commercial_content/", folder.PartExt)
	b, _ := os.ReadFile(flipped)
	b[len(b)/2] ^= 0xFF
	os.WriteFile(flipped, b, 0o644)
	gone := firstFile(t, dir, "ad_reports/query_country=FR/", folder.PartExt)
	goneRaw := f.Abs("raw/" + f.Rel(gone))
	goneRaw = strings.TrimSuffix(goneRaw, folder.PartExt) + folder.RawExt
	os.Remove(gone)
	os.Remove(goneRaw)
	unknown := filepath.Join(dir, "ads", "country_code=FR", "somebody-elses-p00000.parquet")
	os.WriteFile(unknown, []byte("not ours"), 0o644)
	temp := filepath.Join(dir, "ads", ".tmp-x.parquet-123")
	os.WriteFile(temp, nil, 0o644)

	st, err := crawl.ReadStatus(dir, time.Now())
	if err != nil || st.MissingCount != 3 {
		t.Errorf("status: %d missing files (%v), want 3", st.MissingCount, err)
	}
	rep, err = crawl.Check(ctx, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range rep.Problems {
		got[p.Path] = p.What
	}
	for path, want := range map[string]string{
		f.Rel(deleted): "missing", f.Rel(flipped): "content changed", f.Rel(gone): "missing", f.Rel(goneRaw): "missing",
		f.Rel(unknown): "does not name", f.Rel(temp): "temporary",
	} {
		if !strings.Contains(got[path], want) {
			t.Errorf("%s: check says %q, want %q", path, got[path], want)
		}
	}
	if len(rep.Problems) != 6 {
		t.Errorf("%d problems, want 6: %v", len(rep.Problems), rep.Problems)
	}

	sent := srv.Stats().DataRequests
	rep, err = crawl.Check(ctx, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Stats().DataRequests - sent; n != 0 {
		t.Errorf("repair sent %d requests", n)
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Path != f.Rel(unknown) {
		t.Errorf("after repair: %v, want only the unknown file (never deleted)", rep.Problems)
	}
	if _, err := os.Stat(unknown); err != nil {
		t.Error("repair deleted a file the checkpoint does not name")
	}
	os.Remove(unknown)
	if rep, _ := crawl.Check(ctx, dir, false); !rep.Intact() {
		t.Fatalf("not intact after repair: %v", rep.Problems)
	}

	// The shard whose part and raw twin were both lost is harvested again,
	// and only it: the folder then equals the reference.
	sent = srv.Stats().DataRequests
	testkit.Harvest(t, srv, dir, nil)
	if n := srv.Stats().DataRequests - sent; n != 1 {
		t.Errorf("the resume sent %d requests, want 1 (the lost ad/report)", n)
	}
	testkit.SameTables(t, ref, dir)
}

// A harvest used to "complete" at once over a deleted part; the shard is now
// harvested again.
func TestDoneShardWithMissingPartsIsHarvestedAgain(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	ref := harvestEveryDataset(t, srv)
	dir := harvestEveryDataset(t, srv)
	if err := os.Remove(firstFile(t, dir, "ads/country_code=FR/", folder.PartExt)); err != nil {
		t.Fatal(err)
	}
	sent := srv.Stats().DataRequests
	testkit.Harvest(t, srv, dir, nil)
	if n := srv.Stats().DataRequests - sent; n == 0 {
		t.Fatal("the resume spent no request, so the lost part stayed lost")
	}
	testkit.SameTables(t, ref, dir)
}

// The checkpoint itself lost: check says so, --repair rebuilds it from the
// parts and raw twins, and a resume then spends nothing.
func TestRepairRebuildsALostCheckpoint(t *testing.T) {
	t.Parallel()
	srv := testkit.StartAPI(t, apitest.Options{Quirks: true})
	dir := harvestEveryDataset(t, srv)
	ref := harvestEveryDataset(t, srv)
	f := folder.New(dir)
	if err := os.Remove(f.Checkpoint()); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rep, err := crawl.Check(ctx, dir, false)
	if err != nil || rep.Intact() || rep.Problems[0].Path != folder.CheckpointName() {
		t.Fatalf("check without a checkpoint: %+v %v", rep, err)
	}
	rep, err = crawl.Check(ctx, dir, true)
	if err != nil || !rep.Intact() {
		t.Fatalf("repair: %+v %v", rep, err)
	}
	if _, err := os.Stat(f.Checkpoint()); errors.Is(err, fs.ErrNotExist) {
		t.Fatal("no checkpoint after repair")
	}
	sent := srv.Stats().DataRequests
	testkit.Harvest(t, srv, dir, nil)
	if n := srv.Stats().DataRequests - sent; n != 0 {
		t.Errorf("a resume after the rebuild sent %d requests, want 0", n)
	}
	testkit.SameTables(t, ref, dir)
}

// A page with far more items than max_count used to be accepted silently,
// and a chain of non-empty pages with fresh search_ids was bounded only at
// 100,000 pages per shard. Both are recorded as shard warnings, shown by
// status, and the chain is bounded.
func TestRunawayPages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		runaway  apitest.RunawayOptions
		maxPages int
		warning  string
	}{
		{"a page longer than max_count", apitest.RunawayOptions{Inflate: 400}, 0, "held 400 items where max_count is 50"},
		{"has_more forever with items", apitest.RunawayOptions{Endless: true}, 30, "cut at 30 pages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := apitest.New(apitest.Options{Quirks: true})
			srv := httptest.NewServer(apitest.Runaway(fake.Handler(), tc.runaway))
			defer srv.Close()
			dir := t.TempDir()
			o := testkit.Options(fake, dir, adsJob("2024-01-01", "2024-01-03", "FR"))
			o.API.APIURL, o.MaxPages = srv.URL, tc.maxPages
			if _, err := crawl.Run(context.Background(), o); err != nil {
				t.Fatal(err)
			}
			st, err := crawl.ReadStatus(dir, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if st.WarningCount == 0 || !strings.Contains(strings.Join(st.Warnings, "\n"), tc.warning) {
				t.Fatalf("warnings %v, want one saying %q", st.Warnings, tc.warning)
			}
			if tc.maxPages > 0 {
				if n := fake.Stats().ByEndpoint[apitest.EndpointAdQuery]; n > tc.maxPages+1 {
					t.Errorf("%d ad/query requests for a chain bounded at %d pages", n, tc.maxPages)
				}
			}
		})
	}
}
