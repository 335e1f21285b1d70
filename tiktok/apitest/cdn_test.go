package apitest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// mediaURLs collects every media URL of the ads and posts of a range.
func mediaURLs(u *Universe, from, to string) []string {
	var out []string
	for _, a := range u.Ads(AdQuery{From: day(from), To: day(to)}) {
		for _, v := range a.Videos {
			out = append(out, v.URL, v.CoverImageURL)
		}
		out = append(out, a.ImageURLs...)
		if a.DownloadURL != "" {
			out = append(out, a.DownloadURL)
		}
	}
	for _, c := range u.CommercialContent("ALL", day(from), day(to), nil) {
		for _, v := range c.Videos {
			out = append(out, v.URL, v.CoverImageURL)
		}
	}
	return out
}

type fetched struct {
	status int
	sum    string
	size   int
	took   time.Duration
}

func fetch(t *testing.T, hc *http.Client, u string, hdr map[string]string) fetched {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	t0 := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(b)
	return fetched{status: resp.StatusCode, sum: hex.EncodeToString(h[:]), size: len(b), took: time.Since(t0)}
}

func TestCDN(t *testing.T) {
	cdn := DefaultCDN()
	cdn.SlowDelay = 150 * time.Millisecond
	s := start(t, Options{Seed: 31, CDN: cdn, LiveForms: true})
	c := newClient(t, s)
	u := s.Universe()
	base := s.CDNURL()
	if !strings.HasPrefix(base, "http://127.0.0.1:") || base == s.URL {
		t.Fatalf("CDN at %q", base)
	}
	urls := mediaURLs(u, "20240301", "20240302")
	kinds := map[string]int{}
	for _, x := range urls {
		if !strings.HasPrefix(x, base+"/obj/") || !strings.Contains(x, "?") || !strings.Contains(x, "x-expires=") || !strings.Contains(x, "&x-signature=") {
			t.Fatalf("not a signed CDN link: %s", x)
		}
		kinds[s.CDNExpect(x).Kind]++
	}
	for _, k := range mediaKinds {
		if kinds[k] == 0 {
			t.Errorf("no %s among %d URLs", k, len(urls))
		}
	}
	// Fetch them all as a harvester would (without credentials), concurrently.
	hc := &http.Client{Timeout: 10 * time.Second}
	var mu sync.Mutex
	seen := map[string]int{}
	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := range work {
				want := s.CDNExpect(x)
				got := fetch(t, hc, x, map[string]string{"User-Agent": "adharvest-test"})
				mu.Lock()
				switch {
				case got.status != want.Status:
					t.Errorf("%s: %d, want %d", x, got.status, want.Status)
				case want.Status == 200 && (got.sum != want.SHA256 || int64(got.size) != want.Size):
					t.Errorf("%s: body differs", x)
				}
				seen["status "+http.StatusText(got.status)]++
				if want.Large {
					seen["large"]++
					if got.size < 4<<20 {
						t.Errorf("large object of %d bytes", got.size)
					}
				}
				if want.Slow {
					seen["slow"]++
					if got.took < 150*time.Millisecond {
						t.Errorf("slow object in %v", got.took)
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, x := range urls {
		work <- x
	}
	close(work)
	wg.Wait()
	for _, k := range []string{"status OK", "status Forbidden", "status Not Found", "status Gone", "large", "slow"} {
		if seen[k] == 0 {
			t.Errorf("never saw %s (%v)", k, seen)
		}
	}
	t.Logf("%d URLs: %v", len(urls), seen)

	// The wire carries the same URLs, and the API server's responses point
	// at the CDN.
	r := c.mustOK(EndpointAdQuery, "ad.videos,ad.image_urls", adBody("20240301", "20240302", "ALL", map[string]any{"max_count": 50}))
	if !strings.Contains(string(r.raw), strings.ReplaceAll(base, "/", `\/`)) && !strings.Contains(string(r.raw), base) {
		t.Fatal("responses do not point at the CDN")
	}
	if leaks := s.CDNLeaks(); len(leaks) != 0 {
		t.Fatalf("leaks: %v", leaks)
	}
	if n := len(s.CDNRequests()); n != len(urls) {
		t.Fatalf("%d requests recorded, %d made", n, len(urls))
	}
}

func TestCDNRefusesAndRecords(t *testing.T) {
	s := start(t, Options{Seed: 32, CDN: &CDN{}})
	c := newClient(t, s)
	u := s.Universe()
	var link string
	for _, a := range u.Ads(AdQuery{From: day("20240301"), To: day("20240301")}) {
		if len(a.Videos) > 0 {
			link = a.Videos[0].URL
			break
		}
	}
	hc := http.DefaultClient
	if f := fetch(t, hc, link, nil); f.status != 200 || f.sum != s.CDNExpect(link).SHA256 {
		t.Fatalf("%d", f.status)
	}
	b := s.CDNBody(link)
	if len(b) < 65536 || string(b[4:8]) != "ftyp" {
		t.Fatalf("%d bytes %q", len(b), b[:8])
	}
	// A tampered signature or expiry, or a path the CDN never issued, is refused.
	for _, bad := range []struct {
		url    string
		status int
	}{
		{strings.Replace(link, "x-signature=", "x-signature=0", 1), 403},
		{strings.Replace(link, "x-expires=4", "x-expires=5", 1), 403},
		{strings.Split(link, "?")[0], 403},
		{s.CDNURL() + "/obj/ad-video/zzzz/", 404},
		{s.CDNURL() + "/v2/research/adlib/ad/query/", 404},
	} {
		if f := fetch(t, hc, bad.url, nil); f.status != bad.status || s.CDNExpect(bad.url).Status != bad.status {
			t.Errorf("%s: %d, want %d", bad.url, f.status, bad.status)
		}
	}
	// HEAD and Range work like on a real CDN.
	req, _ := http.NewRequest(http.MethodGet, link, nil)
	req.Header.Set("Range", "bytes=0-9")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || string(part) != string(b[:10]) {
		t.Fatalf("range: %d %q", resp.StatusCode, part)
	}
	// Past x-expires every link is refused.
	late := start(t, Options{Seed: 32, CDN: &CDN{}, Now: func() time.Time { return time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC) }})
	if obj := late.CDNExpect(link); obj.Status != 403 || !obj.Expired {
		t.Fatalf("after x-expires: %+v", obj)
	}
	// Credentials that reach the CDN are reported, wherever they are.
	if leaks := s.CDNLeaks(); len(leaks) != 0 {
		t.Fatal(leaks)
	}
	fetch(t, hc, link, map[string]string{"Authorization": "Bearer " + c.tok})
	fetch(t, hc, link+"&access_token="+c.tok, nil)
	fetch(t, hc, link, map[string]string{"X-Debug": "secret=" + DefaultClientSecret})
	leaks := s.CDNLeaks()
	if len(leaks) != 3 || !strings.Contains(leaks[0], "Authorization") || !strings.Contains(leaks[1], "URL") || !strings.Contains(leaks[2], "X-Debug") {
		t.Fatalf("leaks %v", leaks)
	}
	rec := s.CDNRequests()
	if rec[len(rec)-1].Header.Get("X-Debug") == "" || rec[0].Status != 200 || rec[0].Bytes != int64(len(b)) || rec[0].Method != "GET" {
		t.Fatalf("record %+v", rec[0])
	}
}

func TestNoCDN(t *testing.T) {
	s := start(t, Options{Seed: 32})
	if s.CDNURL() != "" || s.CDNRequests() != nil {
		t.Fatal("CDN without Options.CDN")
	}
	for _, x := range mediaURLs(s.Universe(), "20240301", "20240301") {
		if !strings.HasPrefix(x, "https://") || !strings.Contains(x, "tiktok") {
			t.Fatalf("URL %s", x)
		}
	}
}

// CDN.Small shrinks every object but the large ones sixteen-fold, the same
// objects otherwise: statuses, kinds and which are large stay as they were,
// and the bytes served are still the ones CDNExpect describes.
func TestCDNSmall(t *testing.T) {
	full, small := DefaultCDN(), DefaultCDN()
	small.Small = true
	a := New(Options{Seed: 31, CDN: full})
	defer a.Close()
	b := start(t, Options{Seed: 31, CDN: small})
	urls := mediaURLs(b.Universe(), "20240301", "20240302")
	hc := &http.Client{Timeout: 10 * time.Second}
	served := 0
	for _, x := range urls {
		// The same object on the full-size CDN: the path is the same,
		// only the host differs.
		y := a.CDNURL() + strings.TrimPrefix(x, b.CDNURL())
		want, got := a.CDNExpect(y), b.CDNExpect(x)
		if got.Status != want.Status || got.Kind != want.Kind || got.Large != want.Large {
			t.Fatalf("%s: %+v on the small CDN, %+v on the full one", x, got, want)
		}
		if got.Status != http.StatusOK {
			continue
		}
		switch {
		case got.Large && got.Size != want.Size:
			t.Errorf("%s: a large object of %d bytes, %d on the full CDN", x, got.Size, want.Size)
		case !got.Large && got.Size != want.Size/16:
			t.Errorf("%s: %d bytes, want %d / 16", x, got.Size, want.Size)
		}
		if served < 20 {
			served++
			if f := fetch(t, hc, x, nil); f.status != http.StatusOK || f.sum != got.SHA256 || int64(f.size) != got.Size {
				t.Errorf("%s: served %d bytes (%d), want %+v", x, f.size, f.status, got)
			}
		}
	}
	if served == 0 {
		t.Fatal("no object served")
	}
}
