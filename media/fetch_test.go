package media

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
)

var jpeg = append([]byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, bytes.Repeat([]byte{7}, 500)...)

// cdn is a small hand-written media host: each path answers as scripted,
// and every request's headers are kept.
type cdn struct {
	*httptest.Server
	mu    sync.Mutex
	hits  map[string]int
	heads []http.Header
	flaky atomic.Int32
}

func newCDN(t *testing.T) *cdn {
	c := &cdn{hits: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/ok.jpeg", func(w http.ResponseWriter, r *http.Request) { w.Write(jpeg) })
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 4; i++ {
			w.Write(jpeg[i*100 : (i+1)*100])
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5000")
		w.Write(make([]byte, 5000))
	})
	mux.HandleFunc("/bigchunked", func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i < 50; i++ {
			w.Write(make([]byte, 100))
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/denied", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "AccessDenied", http.StatusForbidden) })
	mux.HandleFunc("/gone", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "gone", http.StatusGone) })
	mux.HandleFunc("/flaky", func(w http.ResponseWriter, r *http.Request) {
		if c.flaky.Add(1) <= 2 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		w.Write(jpeg)
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusBadGateway) })
	mux.HandleFunc("/short", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write(jpeg[:10])
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/teapot", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) })
	mux.HandleFunc("/same", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok.jpeg?moved=1", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		// localhost is another host than 127.0.0.1, hence another origin.
		http.Redirect(w, r, strings.Replace(c.URL, "127.0.0.1", "localhost", 1)+"/ok.jpeg", http.StatusFound)
	})
	mux.HandleFunc("/downgrade", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://example.com/x", http.StatusMovedPermanently)
	})
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.hits[r.URL.Path]++
		c.heads = append(c.heads, r.Header.Clone())
		c.mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "s3cr3t"})
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

func (c *cdn) hitsOf(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.hits[path]
}

func (c *cdn) total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.hits {
		n += v
	}
	return n
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func testOptions() Options {
	return Options{MaxFileSize: 1000, RetryBase: time.Millisecond, Stall: 5 * time.Second}
}

func TestFetchOutcomes(t *testing.T) {
	c := newCDN(t)
	f := folder.New(t.TempDir())
	x := NewFetcher(f, testOptions())
	future := "?x-expires=" + strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10) + "&x-signature=abc"
	for _, tc := range []struct {
		name, url string
		status    string
		http      int
		requests  int // to the path asked
		err       string
	}{
		{name: "a 200 is stored", url: c.URL + "/ok.jpeg" + future, status: checkpoint.MediaOK, http: 200, requests: 1},
		{name: "a body without length is stored", url: c.URL + "/chunked", status: checkpoint.MediaOK, http: 200, requests: 1},
		{name: "an announced length above the cap", url: c.URL + "/big", status: checkpoint.MediaTooLarge, http: 200, requests: 1, err: "5000 bytes announced"},
		{name: "a body growing past the cap", url: c.URL + "/bigchunked", status: checkpoint.MediaTooLarge, http: 200, requests: 1, err: "more than the cap"},
		{name: "403 is expired", url: c.URL + "/denied", status: checkpoint.MediaExpired, http: 403, requests: 1},
		{name: "x-expires in the past is expired unasked", url: c.URL + "/ok.jpeg?x-expires=1600000000&x-signature=x", status: checkpoint.MediaExpired, requests: 0, err: "in the past"},
		{name: "410 is removed", url: c.URL + "/gone", status: checkpoint.MediaRemoved, http: 410, requests: 1},
		{name: "404 is removed", url: c.URL + "/nowhere", status: checkpoint.MediaRemoved, http: 404, requests: 1},
		{name: "503 twice then 200", url: c.URL + "/flaky", status: checkpoint.MediaOK, http: 200, requests: 3},
		{name: "502 after every retry fails", url: c.URL + "/down", status: checkpoint.MediaFailed, http: 502, requests: 4, err: "HTTP 502"},
		{name: "a body cut short fails", url: c.URL + "/short", status: checkpoint.MediaFailed, http: 200, requests: 4, err: "cut short"},
		{name: "an empty body fails", url: c.URL + "/empty", status: checkpoint.MediaFailed, http: 200, requests: 4, err: "empty body"},
		{name: "another 4xx fails", url: c.URL + "/teapot", status: checkpoint.MediaFailed, http: 418, requests: 1},
		{name: "a same-origin redirect is followed", url: c.URL + "/same", status: checkpoint.MediaOK, http: 200, requests: 1},
		{name: "redirects are bounded", url: c.URL + "/loop", status: checkpoint.MediaFailed, requests: 3, err: "more than 3 redirects"},
		{name: "a redirect to another host is refused", url: c.URL + "/elsewhere", status: checkpoint.MediaFailed, requests: 1, err: "another origin"},
		{name: "a redirect to another scheme is refused", url: c.URL + "/downgrade", status: checkpoint.MediaFailed, requests: 1, err: "another origin"},
		{name: "plain http elsewhere is refused unasked", url: "http://cdn.example.com/x.jpeg", status: checkpoint.MediaFailed, err: "plain http"},
		{name: "user info is refused", url: strings.Replace(c.URL, "http://", "http://u:p@", 1) + "/ok.jpeg", status: checkpoint.MediaFailed, err: "user info"},
		{name: "another scheme is refused", url: "ftp://127.0.0.1/x", status: checkpoint.MediaFailed, err: "scheme"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := strings.SplitN(strings.TrimPrefix(tc.url, c.URL), "?", 2)[0]
			before := c.hitsOf(path)
			m, err := x.Fetch(context.Background(), tc.url)
			if err != nil {
				t.Fatal(err)
			}
			if m.Status != tc.status || m.HTTPStatus != tc.http || !strings.Contains(m.Err, tc.err) {
				t.Fatalf("got %s (HTTP %d, %q), want %s (HTTP %d, %q)", m.Status, m.HTTPStatus, m.Err, tc.status, tc.http, tc.err)
			}
			if strings.HasPrefix(tc.url, c.URL) {
				if got := c.hitsOf(path) - before; got != tc.requests {
					t.Errorf("%d requests to %s, want %d", got, path, tc.requests)
				}
			}
			if m.Status != checkpoint.MediaOK {
				if m.SHA256 != "" || m.Path != "" || m.Bytes != 0 {
					t.Errorf("a %s link has a file: %+v", m.Status, m)
				}
				return
			}
			b, err := os.ReadFile(f.Abs(m.Path))
			if err != nil {
				t.Fatal(err)
			}
			want := jpeg
			if path == "/chunked" {
				want = jpeg[:400]
			}
			if !bytes.Equal(b, want) || m.SHA256 != sum(b) || m.Bytes != int64(len(b)) || m.Path != folder.MediaRel(m.SHA256, ".jpeg") {
				t.Errorf("stored %s (%d bytes, sha %s) is not the body", m.Path, m.Bytes, m.SHA256)
			}
		})
	}
	for i, h := range c.heads {
		for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie", "Referer"} {
			if v := h.Get(k); v != "" {
				t.Errorf("request %d sent %s: %q", i, k, v)
			}
		}
	}
	if entries, _ := os.ReadDir(f.MediaTemp()); len(entries) != 0 {
		t.Errorf("downloads left behind: %v", entries)
	}
}

func TestOfflineFetchesLoopbackOnly(t *testing.T) {
	c := newCDN(t)
	o := testOptions()
	o.Offline = true
	x := NewFetcher(folder.New(t.TempDir()), o)
	m, _ := x.Fetch(context.Background(), "https://p16-sign.tiktokcdn.com/a.jpeg")
	if m.Status != checkpoint.MediaFailed || !strings.Contains(m.Err, "offline") {
		t.Fatalf("offline, a remote link: %+v", m)
	}
	if m, _ := x.Fetch(context.Background(), c.URL+"/ok.jpeg"); m.Status != checkpoint.MediaOK {
		t.Fatalf("offline, a loopback link: %+v", m)
	}
}

func TestBudgetIsNeverExceeded(t *testing.T) {
	c := newCDN(t)
	o := testOptions()
	o.Budget = int64(len(jpeg)) + 300
	x := NewFetcher(folder.New(t.TempDir()), o)
	if m, err := x.Fetch(context.Background(), c.URL+"/ok.jpeg"); err != nil || m.Status != checkpoint.MediaOK {
		t.Fatalf("first file: %+v %v", m, err)
	}
	// With a Content-Length the second is not even read; without one it is
	// abandoned as it passes the budget.
	if _, err := x.Fetch(context.Background(), c.URL+"/ok.jpeg?again"); !errors.Is(err, ErrBudget) {
		t.Fatalf("second file: %v, want ErrBudget", err)
	}
	if _, err := x.Fetch(context.Background(), c.URL+"/chunked"); !errors.Is(err, ErrBudget) {
		t.Fatalf("a body without length: %v, want ErrBudget", err)
	}
	if got := x.Downloaded(); got > o.Budget {
		t.Fatalf("downloaded %d bytes, over the budget of %d", got, o.Budget)
	}
}

func TestCancelledFetchKeepsNothing(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write(jpeg[:100])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	f := folder.New(t.TempDir())
	x := NewFetcher(f, testOptions())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := x.Fetch(ctx, srv.URL+"/slow"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(f.MediaTemp()); len(entries) != 0 {
		t.Errorf("a cancelled download left %v", entries)
	}
	if _, err := os.Stat(f.MediaStore()); !os.IsNotExist(err) {
		t.Errorf("a cancelled download reached the store: %v", err)
	}
}

func TestStalledBodyIsRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			w.Header().Set("Content-Length", fmt.Sprint(len(jpeg)))
			w.Write(jpeg[:10])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			return
		}
		w.Write(jpeg)
	}))
	defer srv.Close()
	o := testOptions()
	o.Stall = 100 * time.Millisecond
	x := NewFetcher(folder.New(t.TempDir()), o)
	m, err := x.Fetch(context.Background(), srv.URL+"/x")
	if err != nil || m.Status != checkpoint.MediaOK || n.Load() != 2 {
		t.Fatalf("%+v %v after %d requests", m, err, n.Load())
	}
}

func TestURLRules(t *testing.T) {
	for raw, want := range map[string]string{
		"https://p16.tiktokcdn.com/a.jpeg":                "",
		"http://127.0.0.1:8080/a":                         "",
		"http://[::1]:8080/a":                             "",
		"http://localhost/a":                              "",
		"http://p16.tiktokcdn.com/a.jpeg":                 "plain http",
		"javascript:alert(1)":                             "absolute",
		"https://user:pw@p16.tiktokcdn.com/":              "user info",
		"https://x/" + strings.Repeat("a", MaxURLLen):     "longer",
		"file:///etc/passwd":                              "absolute",
		"gopher://p16.tiktokcdn.com/":                     "scheme",
		"https://www.tiktok.com/@joe/video/1938472920482": "",
	} {
		_, err := CheckURL(raw)
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckURL(%.40q) = %v, want %q", raw, err, want)
		}
	}
	for raw, ok := range map[string]bool{
		"https://p16-sign-va.tiktokcdn.com/obj/x.jpeg?x-expires=1":   true,
		"https://www.tiktok.com/@joe1234567/video/19384729204821234": false,
		"https://vm.tiktok.com/ZMabc/":                               false,
		"https://tiktok.com/@joe":                                    false,
		"":                                                           false,
		"N/A":                                                        false,
		"  https://a.example/x  ":                                    true,
	} {
		if _, got := fileLink(raw); got != ok {
			t.Errorf("fileLink(%q) = %v, want %v", raw, got, ok)
		}
	}
	a := objectKey("https://a.tiktokcdn.com/obj/v/1/?mime_type=video_mp4&x-expires=100&x-signature=abc%3D")
	b := objectKey("https://A.tiktokcdn.com/obj/v/1/?x-signature=zzz&x-expires=900&mime_type=video_mp4")
	c := objectKey("https://a.tiktokcdn.com/obj/v/2/?mime_type=video_mp4&x-expires=100&x-signature=abc%3D")
	if a != b || a == c {
		t.Errorf("object keys: %q %q %q", a, b, c)
	}
	if exp, ok := expiresAt("https://a/x?x-expires=1679169600&x-signature=a"); !ok || exp.Unix() != 1679169600 {
		t.Errorf("expiresAt = %v %v", exp, ok)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"1000": 1000, "500MB": 500e6, "2GiB": 2 << 30, "1.5G": 3 << 29, "750 kb": 750e3, "10k": 10240, "0": 0, "7b": 7,
	} {
		got, err := ParseBytes(in)
		if err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "MB", "1.5XB", "1e30"} {
		if _, err := ParseBytes(in); err == nil {
			t.Errorf("ParseBytes(%q) took it", in)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1536: "1.5 KiB", 20 << 20: "20 MiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestSlowDripTimesOut(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(len(jpeg)))
		for i := range jpeg {
			if _, err := w.Write(jpeg[i : i+1]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-time.After(20 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
	}))
	defer srv.Close()
	o := testOptions()
	o.FileTimeout, o.Retries = 150*time.Millisecond, 1
	x := NewFetcher(folder.New(t.TempDir()), o)
	t0 := time.Now()
	m, err := x.Fetch(context.Background(), srv.URL+"/drip")
	if err != nil || m.Status != checkpoint.MediaFailed || time.Since(t0) > 2*time.Second {
		t.Fatalf("%+v %v after %s", m, err, time.Since(t0))
	}
}
