package media

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/sink"
)

// testHarvest is a folder that a harvest could have written: a checkpoint
// naming a job and the parts, registered as the crawl registers them.
type testHarvest struct {
	t *testing.T
	f folder.Folder
}

func newHarvest(t *testing.T) *testHarvest {
	f := folder.New(t.TempDir())
	s, err := checkpoint.Open(f.Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetMeta("job", []byte(`{"datasets":["ads"]}`)); err != nil {
		t.Fatal(err)
	}
	return &testHarvest{t: t, f: f}
}

// part writes a part of table t in a partition and registers it.
func writePart[T any](h *testHarvest, t sink.Table, partition string, n int, rows []T) string {
	h.t.Helper()
	p := h.f.Part(t, partition, "w", n)
	sum, err := sink.WriteParquetSum(p, rows)
	if err != nil {
		h.t.Fatal(err)
	}
	s, err := checkpoint.Open(h.f.Checkpoint())
	if err != nil {
		h.t.Fatal(err)
	}
	defer s.Close()
	shard := t.Name + "/" + partition + "/w"
	if err := s.RegisterFiles(shard, []checkpoint.File{{Path: h.f.Rel(p), Shard: shard, Part: n, Table: t.Name, Rows: int64(len(rows)), Size: sum.Size, SHA256: sum.SHA256}}); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func ptr[T any](v T) *T { return &v }

func mediaTable(t *testing.T, f folder.Folder) map[string]sink.MediaRow {
	t.Helper()
	rows, err := sink.ReadParquet[sink.MediaRow](TablePath(f, sink.Media))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]sink.MediaRow{}
	for _, r := range rows {
		out[r.URL] = r
	}
	return out
}

func TestRunArchivesResumesAndRepairs(t *testing.T) {
	c := newCDN(t)
	h := newHarvest(t)
	fresh := c.URL + "/ok.jpeg?x-expires=" + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + "&x-signature=new"
	stale := c.URL + "/ok.jpeg?x-expires=1600000000&x-signature=old" // the same object, an older link
	gone, denied, avatar := c.URL+"/gone", c.URL+"/denied", c.URL+"/chunked"
	page := "https://www.tiktok.com/@joe/video/1"
	writePart(h, sink.Ads, "FR", 0, []sink.AdRow{
		{AdFields: sink.AdFields{AdID: 1, VideoURLs: []string{stale}, ImageURLs: []string{gone}}},
		{AdFields: sink.AdFields{AdID: 2, VideoURLs: []string{fresh}}},
	})
	writePart(h, sink.Ads, "DE", 0, []sink.AdRow{{AdFields: sink.AdFields{AdID: 2, VideoURLs: []string{fresh}}}})
	writePart(h, sink.AdDetails, "", 0, []sink.AdDetailRow{{AdFields: sink.AdFields{AdID: 2, VideoURLs: []string{fresh}}, AvatarURL: &avatar}})
	writePart(h, sink.CommercialContent, "FR", 0, []sink.CommercialContentRow{
		{ContentID: "v0904", Videos: []sink.ContentVideo{{URL: &page, CoverImageURL: &denied}}, VideoURLs: []string{page}},
	})
	o := testOptions()
	o.Concurrency = 3
	res, err := Run(context.Background(), h.f.Dir, o)
	if err != nil {
		t.Fatal(err)
	}
	rows := mediaTable(t, h.f)
	want := map[string]struct{ status, kind, source string }{
		fresh:  {checkpoint.MediaOK, KindVideo, ""},
		stale:  {checkpoint.MediaOK, KindVideo, fresh}, // its x-expires is past, but the object is kept
		gone:   {checkpoint.MediaRemoved, KindImage, ""},
		denied: {checkpoint.MediaExpired, KindCover, ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("media has %d rows, want %d: %v", len(rows), len(want), rows)
	}
	for u, w := range want {
		r := rows[u]
		if r.Status != w.status || r.Kind != w.kind || deref(r.SourceURL) != w.source {
			t.Errorf("%s: %s %s from %q, want %s %s from %q", u, r.Status, r.Kind, deref(r.SourceURL), w.status, w.kind, w.source)
		}
		if (r.Status == checkpoint.MediaOK) != (r.Path != nil && r.SHA256 != nil && r.Bytes != nil) {
			t.Errorf("%s: %s with path %v", u, r.Status, r.Path)
		}
	}
	if got := c.hitsOf("/ok.jpeg"); got != 1 {
		t.Errorf("%d requests for one object behind two links, want 1", got)
	}
	if p := deref(rows[fresh].Path); p != folder.MediaRel(sum(jpeg), ".jpeg") || rows[fresh].HTTPStatus == nil || rows[stale].HTTPStatus != nil {
		t.Errorf("fresh %+v, stale %+v", rows[fresh], rows[stale])
	}
	links, err := sink.ReadParquet[sink.MediaLinkRow](TablePath(h.f, sink.MediaLinks))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range links {
		got = append(got, l.SourceTable+" "+deref(l.CountryCode)+" "+l.Field+" "+strings.TrimPrefix(l.URL, c.URL))
	}
	wantLinks := []string{
		"ad_details  video_urls " + strings.TrimPrefix(fresh, c.URL),
		"ads FR image_urls /gone",
		"ads FR video_urls " + strings.TrimPrefix(stale, c.URL),
		"ads DE video_urls " + strings.TrimPrefix(fresh, c.URL),
		"ads FR video_urls " + strings.TrimPrefix(fresh, c.URL),
		"commercial_content FR videos.cover_image_url /denied",
	}
	if strings.Join(got, "\n") != strings.Join(wantLinks, "\n") {
		t.Errorf("media_links:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantLinks, "\n"))
	}
	if res.URLs != 4 || res.OK != 2 || res.Files != 1 || res.Removed != 1 || res.Expired != 1 || res.Owed() != 0 || res.Tried != 4 || res.Stored != 1 {
		t.Errorf("result %+v", res)
	}
	var countries []string
	for _, cs := range res.Countries {
		countries = append(countries, cs.Country+":"+strconv.Itoa(cs.URLs)+"/"+strconv.Itoa(cs.OK))
	}
	if strings.Join(countries, " ") != "DE:1/1 FR:4/2" {
		t.Errorf("per country %v", countries)
	}

	// A second run asks nothing: every link is settled.
	before := c.total()
	if _, err := Run(context.Background(), h.f.Dir, o); err != nil {
		t.Fatal(err)
	}
	if n := c.total() - before; n != 0 {
		t.Errorf("a second run sent %d requests", n)
	}

	// Avatars, once asked, are kept by every later run.
	o.Avatars = true
	if res, err = Run(context.Background(), h.f.Dir, o); err != nil || res.URLs != 5 || res.OK != 3 {
		t.Fatalf("with avatars: %+v %v", res.Summary, err)
	}
	o.Avatars = false
	if res, err = Run(context.Background(), h.f.Dir, o); err != nil || res.URLs != 5 {
		t.Fatalf("avatars forgotten: %+v %v", res.Summary, err)
	}

	// A lost file is fetched again, through the link that still works.
	stored := h.f.Abs(deref(rows[fresh].Path))
	os.Remove(stored)
	if s, err := ReadSummary(h.f.Dir); err != nil || s.Pending != 2 || s.Owed() != 2 {
		t.Fatalf("summary with a lost file: %+v %v", s, err)
	}
	before = c.hitsOf("/ok.jpeg")
	if _, err := Run(context.Background(), h.f.Dir, o); err != nil {
		t.Fatal(err)
	}
	if c.hitsOf("/ok.jpeg")-before != 1 || mediaTable(t, h.f)[stale].Status != checkpoint.MediaOK {
		t.Errorf("a lost file was not fetched again once")
	}

	// Verify finds a damaged copy; repair drops it and its states.
	os.WriteFile(stored, []byte("not the image"), 0o644)
	os.WriteFile(filepath.Join(filepath.Dir(stored), "notahash.jpeg"), []byte("x"), 0o644)
	store, err := checkpoint.Open(h.f.Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(context.Background(), h.f, store, false)
	if err != nil {
		t.Fatal(err)
	}
	var problems []string
	for _, p := range rep.Problems {
		problems = append(problems, p.What)
	}
	sort.Strings(problems)
	if len(problems) != 2 || problems[0] != ProblemCorrupt || problems[1] != ProblemBadName {
		t.Fatalf("verify: %v", rep.Problems)
	}
	rep, err = Verify(context.Background(), h.f, store, true)
	store.Close()
	if err != nil || len(rep.Problems) != 1 || rep.Problems[0].What != ProblemBadName || len(rep.Repaired) != 2 {
		t.Fatalf("repair: %+v %v", rep, err)
	}
	if _, err := os.Stat(stored); !os.IsNotExist(err) {
		t.Errorf("the damaged copy is still there")
	}
	if _, err := Run(context.Background(), h.f.Dir, o); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(stored); sum(b) != filepath.Base(stored)[:64] {
		t.Errorf("the repaired file was not fetched again")
	}
}

func TestQueueTakesPartsAsCommitted(t *testing.T) {
	c := newCDN(t)
	h := newHarvest(t)
	store, err := checkpoint.Open(h.f.Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	q, err := Start(context.Background(), h.f, store, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	// The part is written and committed while the queue runs.
	p := h.f.Part(sink.Ads, "FR", "w", 0)
	if err := sink.WriteParquet(p, []sink.AdRow{{AdFields: sink.AdFields{AdID: 7, ImageURLs: []string{c.URL + "/ok.jpeg", c.URL + "/flaky"}}}}); err != nil {
		t.Fatal(err)
	}
	if err := q.AddPart(sink.Ads.Name, p); err != nil {
		t.Fatal(err)
	}
	if err := q.AddPart(sink.AdReports.Name, "ignored.parquet"); err != nil {
		t.Fatal(err)
	}
	res, err := q.Finish()
	if err != nil || res.OK != 2 || res.Files != 1 || res.Links != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	if n := len(mediaTable(t, h.f)); n != 2 {
		t.Fatalf("media has %d rows", n)
	}
}

func TestBudgetStopsResumably(t *testing.T) {
	c := newCDN(t)
	h := newHarvest(t)
	var urls []string
	for i := 0; i < 6; i++ {
		urls = append(urls, c.URL+"/ok.jpeg?n="+strconv.Itoa(i))
	}
	writePart(h, sink.Ads, "FR", 0, []sink.AdRow{{AdFields: sink.AdFields{AdID: 1, ImageURLs: urls}}})
	o := testOptions()
	o.Budget = int64(len(jpeg))*2 + 10
	o.Concurrency = 1
	res, err := Run(context.Background(), h.f.Dir, o)
	var se *StopError
	if !errors.As(err, &se) || !errors.Is(err, ErrBudget) {
		t.Fatalf("err %v, want a budget stop", err)
	}
	if res.OK != 2 || res.Owed() != 4 || res.Downloaded > o.Budget {
		t.Fatalf("%+v", res)
	}
	if n := len(mediaTable(t, h.f)); n != 2 {
		t.Fatalf("the media table has %d rows after the stop, want 2", n)
	}
	o.Budget = 0
	res, err = Run(context.Background(), h.f.Dir, o)
	if err != nil || res.OK != 6 || res.Tried != 4 {
		t.Fatalf("resumed: %+v %v", res, err)
	}
}

func TestRunRefusesAFolderWithoutHarvest(t *testing.T) {
	if _, err := Run(context.Background(), t.TempDir(), Options{}); !errors.Is(err, ErrNoHarvest) {
		t.Fatalf("err %v", err)
	}
	h := newHarvest(t)
	lock, err := checkpoint.Acquire(h.f.Lock(), h.f.Dir)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Release()
	var le *checkpoint.LockedError
	if _, err := Run(context.Background(), h.f.Dir, Options{}); !errors.As(err, &le) {
		t.Fatalf("a held folder: %v", err)
	}
}

func TestPartLinksReadNewerColumns(t *testing.T) {
	// A part of a later schema: ads with videos (and their covers) and a
	// download_url.
	type video struct {
		URL           *string `parquet:"url,optional"`
		CoverImageURL *string `parquet:"cover_image_url,optional"`
	}
	type newerAd struct {
		AdID        int64    `parquet:"ad_id"`
		VideoURLs   []string `parquet:"video_urls,list"`
		ImageURLs   []string `parquet:"image_urls,list"`
		Videos      []video  `parquet:"videos,list"`
		DownloadURL *string  `parquet:"download_url,optional"`
	}
	p := filepath.Join(t.TempDir(), "ads", "country_code=FR", "x-p00000.parquet")
	v, cover, dl := "https://v.tiktokcdn.com/v/1/", "https://p.tiktokcdn.com/c.jpeg", "https://v.tiktokcdn.com/d/1/"
	if err := sink.WriteParquet(p, []newerAd{{AdID: 9, VideoURLs: []string{v}, Videos: []video{{URL: &v, CoverImageURL: &cover}}, DownloadURL: &dl}}); err != nil {
		t.Fatal(err)
	}
	links, err := PartLinks(sink.Ads, p, "FR", false)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, l := range links {
		got = append(got, l.Field+"="+l.Kind)
	}
	if strings.Join(got, " ") != "videos.url=video videos.cover_image_url=cover download_url=video" {
		t.Fatalf("links %v", got)
	}
}

func TestRefreshWritesTheTablesWithoutARequest(t *testing.T) {
	c := newCDN(t)
	h := newHarvest(t)
	past := c.URL + "/ok.jpeg?x-expires=1600000000&x-signature=old"
	future := c.URL + "/ok.jpeg?x-expires=" + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + "&x-signature=new"
	at := time.Date(2024, 2, 1, 8, 0, 0, 0, time.UTC)
	writePart(h, sink.Ads, "FR", 0, []sink.AdRow{
		{AdFields: sink.AdFields{AdID: 1, VideoURLs: []string{past}}, Provenance: sink.Provenance{FetchedAt: at, RunID: "r1"}},
		{AdFields: sink.AdFields{AdID: 2, VideoURLs: []string{future}}, Provenance: sink.Provenance{FetchedAt: at, RunID: "r1"}},
	})
	writePart(h, sink.Ads, "FR", 1, []sink.AdRow{
		{AdFields: sink.AdFields{AdID: 1, VideoURLs: []string{past}}, Provenance: sink.Provenance{FetchedAt: at.Add(time.Hour), RunID: "r2"}},
	})
	store, err := checkpoint.Open(h.f.Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	s, err := Refresh(h.f, store, time.Now())
	store.Close()
	if err != nil {
		t.Fatal(err)
	}
	if c.total() != 0 {
		t.Fatalf("Refresh sent %d requests", c.total())
	}
	if s.URLs != 2 || s.Expired != 1 || s.Pending != 1 || s.Owed() != 1 {
		t.Fatalf("summary %+v", s)
	}
	rows := mediaTable(t, h.f)
	if r, ok := rows[past]; len(rows) != 1 || !ok || r.Status != checkpoint.MediaExpired || r.HTTPStatus != nil || r.FetchedAt != nil || !strings.Contains(deref(r.Error), "not asked") {
		t.Fatalf("media after Refresh: %+v", rows)
	}
	links, err := sink.ReadParquet[sink.MediaLinkRow](TablePath(h.f, sink.MediaLinks))
	if err != nil || len(links) != 2 || links[0].RunID != "r2" || !links[0].FetchedAt.Equal(at.Add(time.Hour)) {
		t.Fatalf("links %+v %v", links, err)
	}
	// A media run then fetches only the link that can still answer.
	res, err := Run(context.Background(), h.f.Dir, testOptions())
	if err != nil || c.total() != 1 || res.OK != 2 {
		t.Fatalf("%+v %v after %d requests", res, err, c.total())
	}
}

func TestADamagedPartCostsOnlyItsLinks(t *testing.T) {
	c := newCDN(t)
	h := newHarvest(t)
	writePart(h, sink.Ads, "FR", 0, []sink.AdRow{{AdFields: sink.AdFields{AdID: 1, ImageURLs: []string{c.URL + "/ok.jpeg"}}}})
	bad := writePart(h, sink.Ads, "DE", 0, []sink.AdRow{{AdFields: sink.AdFields{AdID: 2, ImageURLs: []string{c.URL + "/chunked"}}}})
	os.WriteFile(bad, []byte("not parquet"), 0o644)
	var logged []string
	o := testOptions()
	o.Logf = func(format string, args ...any) { logged = append(logged, fmt.Sprintf(format, args...)) }
	res, err := Run(context.Background(), h.f.Dir, o)
	if err != nil || res.OK != 1 || res.URLs != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if len(logged) != 1 || !strings.Contains(logged[0], "country_code=DE") {
		t.Fatalf("logged %q", logged)
	}
	store, err := checkpoint.Open(h.f.Checkpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if s, err := Refresh(h.f, store, time.Now()); err != nil || s.OK != 1 {
		t.Fatalf("Refresh over a damaged part: %+v %v", s, err)
	}
}
