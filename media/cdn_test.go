package media_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/internal/testkit"
	"adharvest/job"
	"adharvest/media"
	"adharvest/sink"
	"adharvest/tiktok/apitest"
)

// cdnJob touches every table that links to creatives.
func cdnJob() *job.Job {
	return &job.Job{
		Datasets: []string{job.Ads, job.AdDetails, job.CommercialContent},
		Queries:  []job.Query{{Countries: []string{"FR", "DE"}, From: "2024-01-01", To: "2024-01-04"}},
	}
}

// startCDN is the fake API with its CDN: every kind of trouble, slow
// objects a little slow, large ones above the 1 MiB cap the tests use.
func startCDN(t *testing.T) *apitest.Server {
	cdn := apitest.DefaultCDN()
	cdn.SlowDelay, cdn.LargeSize = 50*time.Millisecond, 2<<20
	return testkit.StartAPI(t, apitest.Options{Seed: 7, CDN: cdn, LiveForms: true})
}

func options() media.Options {
	return media.Options{MaxFileSize: 1 << 20, Concurrency: 8, RetryBase: time.Millisecond}
}

func readMedia(t *testing.T, dir string) []sink.MediaRow {
	t.Helper()
	rows, err := sink.ReadParquet[sink.MediaRow](media.TablePath(folder.New(dir), sink.Media))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkAgainstCDN requires every row of dir's media table to say what the
// CDN answers for its URL, and every stored file to be the CDN's bytes under
// their hash.
func checkAgainstCDN(t *testing.T, srv *apitest.Server, dir string) map[string]int {
	t.Helper()
	f := folder.New(dir)
	statuses := map[string]int{}
	for _, r := range readMedia(t, dir) {
		exp := srv.CDNExpect(r.URL)
		want := ""
		switch {
		case exp.Status == 200 && exp.Large:
			want = checkpoint.MediaTooLarge
		case exp.Status == 200:
			want = checkpoint.MediaOK
		case exp.Status == 403:
			want = checkpoint.MediaExpired
		case exp.Status == 404 || exp.Status == 410:
			want = checkpoint.MediaRemoved
		}
		statuses[r.Status]++
		if r.Status != want {
			t.Errorf("%s: %s (%s), the CDN answers %d", r.URL, r.Status, deref(r.Error), exp.Status)
			continue
		}
		if r.Status != checkpoint.MediaOK {
			if r.SHA256 != nil || r.Path != nil || r.Bytes != nil {
				t.Errorf("%s: %s with a file", r.URL, r.Status)
			}
			continue
		}
		b, err := os.ReadFile(f.Abs(deref(r.Path)))
		if err != nil {
			t.Fatal(err)
		}
		if deref(r.SHA256) != exp.SHA256 || !bytes.Equal(b, srv.CDNBody(r.URL)) || *r.Bytes != exp.Size {
			t.Errorf("%s: stored %s is not the CDN's object", r.URL, deref(r.Path))
		}
	}
	checkStore(t, dir)
	if leaks := srv.CDNLeaks(); len(leaks) > 0 {
		t.Errorf("credentials reached the CDN: %v", leaks)
	}
	return statuses
}

// checkStore requires every file of the store to be named by its hash.
func checkStore(t *testing.T, dir string) (files int) {
	t.Helper()
	f := folder.New(dir)
	filepath.WalkDir(f.MediaStore(), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Dir(p) == f.MediaStore() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(b)
		sum, ext, ok := folder.ParseMediaName(d.Name())
		if !ok || sum != hex.EncodeToString(h[:]) || f.Rel(p) != folder.MediaRel(sum, ext) {
			t.Errorf("%s is not named by its SHA-256", f.Rel(p))
		}
		files++
		return nil
	})
	return files
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func TestArchiveFromTheFakeCDN(t *testing.T) {
	srv := startCDN(t)
	dir := t.TempDir()
	testkit.Harvest(t, srv, dir, cdnJob())
	res, err := media.Run(context.Background(), dir, options())
	if err != nil {
		t.Fatal(err)
	}
	statuses := checkAgainstCDN(t, srv, dir)
	t.Logf("%d links, %d URLs: %v; %d files, %s; %d requests", res.Links, res.URLs, statuses, res.Files, media.FormatBytes(res.Bytes), len(srv.CDNRequests()))
	for _, s := range []string{checkpoint.MediaOK, checkpoint.MediaExpired, checkpoint.MediaRemoved, checkpoint.MediaTooLarge} {
		if statuses[s] == 0 {
			t.Errorf("no %s link: the test harvest is too small to mean anything", s)
		}
	}
	if res.Owed() != 0 || res.URLs != len(readMedia(t, dir)) {
		t.Errorf("%d URLs owed, %d of %d in the table", res.Owed(), len(readMedia(t, dir)), res.URLs)
	}
	if n := checkStore(t, dir); n != res.Files {
		t.Errorf("%d files in the store, the summary says %d", n, res.Files)
	}

	// Every kind the tables hold, from every table, is there; no page link.
	db := testkit.Open(t, dir)
	for _, q := range []struct{ sql, want string }{
		{"SELECT string_agg(DISTINCT kind, ',' ORDER BY kind) FROM media", "cover,image,video"},
		{"SELECT string_agg(DISTINCT source_table, ',' ORDER BY source_table) FROM media_links", "ad_details,ads,commercial_content"},
		{"SELECT string_agg(DISTINCT country_code, ',' ORDER BY country_code) FROM media_links", "DE,FR"},
		{"SELECT count(*) FROM media_links WHERE url LIKE '%tiktok.com/@%'", "0"},
		{"SELECT count(*) FROM media WHERE (status = 'ok') <> (path IS NOT NULL AND sha256 IS NOT NULL AND bytes IS NOT NULL)", "0"},
		{"SELECT count(*) FROM media_links l LEFT JOIN media m USING (url) WHERE m.url IS NULL", "0"},
		{"SELECT typeof(http_status) FROM media LIMIT 1", "INTEGER"},
	} {
		var got string
		if err := db.QueryRow(q.sql).Scan(&got); err != nil || got != q.want {
			t.Errorf("%s = %q (%v), want %q", q.sql, got, err, q.want)
		}
	}

	// Resuming asks the CDN nothing more: every link is settled.
	before := len(srv.CDNRequests())
	again, err := media.Run(context.Background(), dir, options())
	if err != nil || again.Tried != 0 || len(srv.CDNRequests()) != before {
		t.Fatalf("a second run: %+v %v, %d requests", again, err, len(srv.CDNRequests())-before)
	}
	s, err := media.ReadSummary(dir)
	if err != nil || s.OK != res.OK || s.Owed() != 0 || len(s.Countries) != 2 {
		t.Fatalf("summary %+v %v", s, err)
	}
	ts, err := media.TableSummary(dir)
	if err != nil || !ts.Live || fmt.Sprint(ts.Countries) != fmt.Sprint(s.Countries) || ts.String() != s.String() {
		t.Fatalf("from the tables:\n%v\nfrom the checkpoint:\n%v (%v)", ts, s, err)
	}

	// The report's per-country query over the views says what Summary says.
	var byCountry []string
	rows, err := db.Query(countrySQL)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c media.CountrySummary
		if err := rows.Scan(&c.Country, &c.URLs, &c.OK, &c.Expired, &c.Removed, &c.TooLarge, &c.Failed, &c.Pending); err != nil {
			t.Fatal(err)
		}
		byCountry = append(byCountry, fmt.Sprint(c))
	}
	var want []string
	for _, c := range s.Countries {
		want = append(want, fmt.Sprint(c))
	}
	if strings.Join(byCountry, "\n") != strings.Join(want, "\n") {
		t.Errorf("per country in SQL:\n%s\nSummary:\n%s", strings.Join(byCountry, "\n"), strings.Join(want, "\n"))
	}
}

// countrySQL is the per-country media figure for the report, over the views:
// an ad's details count in the countries of its ads rows.
const countrySQL = `
WITH ad_countries AS (
    SELECT DISTINCT ad_id, country_code FROM media_links WHERE source_table = 'ads'
), linked AS (
    SELECT DISTINCT coalesce(l.country_code, a.country_code, '') AS country_code, l.url
    FROM media_links l
    LEFT JOIN ad_countries a ON l.country_code IS NULL AND l.ad_id = a.ad_id
)
SELECT country_code,
       count(*) AS urls,
       count(*) FILTER (WHERE m.status = 'ok') AS archived,
       count(*) FILTER (WHERE m.status = 'expired') AS expired,
       count(*) FILTER (WHERE m.status = 'removed') AS removed,
       count(*) FILTER (WHERE m.status = 'too_large') AS too_large,
       count(*) FILTER (WHERE m.status = 'failed') AS failed,
       count(*) FILTER (WHERE m.status IS NULL) AS not_tried
FROM linked LEFT JOIN media m USING (url)
GROUP BY ALL
ORDER BY country_code`

func TestBudgetStopThenResumeGivesTheSameStore(t *testing.T) {
	srv := startCDN(t)
	ref, dir := t.TempDir(), t.TempDir()
	testkit.Harvest(t, srv, ref, cdnJob())
	testkit.Harvest(t, srv, dir, cdnJob())
	if _, err := media.Run(context.Background(), ref, options()); err != nil {
		t.Fatal(err)
	}
	o := options()
	o.Budget = 3 << 20
	stops := 0
	for {
		res, err := media.Run(context.Background(), dir, o)
		if err == nil {
			break
		}
		var se *media.StopError
		if !errors.As(err, &se) || !errors.Is(err, media.ErrBudget) {
			t.Fatalf("run %d: %v", stops, err)
		}
		if res.Downloaded > o.Budget {
			t.Fatalf("run %d downloaded %d bytes, over its budget", stops, res.Downloaded)
		}
		if stops++; stops > 50 {
			t.Fatal("no end in sight")
		}
	}
	if stops < 2 {
		t.Fatalf("only %d budget stops; the budget is too large for the test", stops)
	}
	checkAgainstCDN(t, srv, dir)
	if a, b := storeFiles(t, ref), storeFiles(t, dir); a != b {
		t.Fatalf("after %d budget stops the store differs:\n%s\nwant:\n%s", stops, b, a)
	}
	testkit.NoTempFiles(t, dir)
}

// storeFiles lists the store's files.
func storeFiles(t *testing.T, dir string) string {
	f := folder.New(dir)
	var out []string
	filepath.WalkDir(f.MediaStore(), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Dir(p) != f.MediaStore() {
			out = append(out, f.Rel(p))
		}
		return nil
	})
	return strings.Join(out, "\n")
}
