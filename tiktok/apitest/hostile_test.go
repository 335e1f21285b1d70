package apitest

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestEndpointOf(t *testing.T) {
	for path, want := range map[string]string{
		"/v2/oauth/token/":                            EndpointToken,
		"/v2/oauth/token":                             EndpointToken,
		"/v2/research/adlib/ad/query/":                "ad/query",
		"/v2/research/adlib/commercial_content/query": "commercial_content/query",
		"/elsewhere":                                  "/elsewhere",
	} {
		if got := EndpointOf(path); got != want {
			t.Errorf("EndpointOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestGzipBombInflatesToItsSize(t *testing.T) {
	for _, size := range []int64{10, 1<<20 - 3, 5<<20 + 17} {
		srv := httptest.NewServer(GzipBomb(size))
		// A transport without automatic decompression, to see the wire.
		req, _ := http.NewRequest(http.MethodPost, srv.URL, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		wire, _ := io.ReadAll(res.Body)
		res.Body.Close()
		srv.Close()
		zr, err := gzip.NewReader(strings.NewReader(string(wire)))
		if err != nil {
			t.Fatal(err)
		}
		n, err := io.Copy(io.Discard, zr)
		if err != nil || n != size {
			t.Fatalf("GzipBomb(%d) inflates to %d bytes (%v)", size, n, err)
		}
		if res.Header.Get("Content-Encoding") != "gzip" || len(wire) != GzipBombSize(size) {
			t.Fatalf("headers %v, %d bytes on the wire, GzipBombSize %d", res.Header, len(wire), GzipBombSize(size))
		}
		if size > 1<<20 && int64(len(wire)) > size/500 {
			t.Fatalf("GzipBomb(%d) is %d bytes compressed: no bomb", size, len(wire))
		}
	}
}

func TestRedirectAndTrap(t *testing.T) {
	trap := NewTrap()
	ts := httptest.NewServer(trap)
	defer ts.Close()
	hits := CountHits(DataOnly(Redirect(http.StatusPermanentRedirect, ts.URL), RedirectingToken(ts.URL)))
	rs := httptest.NewServer(hits)
	defer rs.Close()
	// Go's default client follows both, re-sending the form: what the trap is for.
	res, err := http.PostForm(rs.URL+TokenPath, url.Values{"client_secret": {"s"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	got := trap.Requests()
	if len(got) != 1 || got[0].Path != TokenPath || got[0].Body != "client_secret=s" || hits.Get(EndpointToken) != 1 {
		t.Fatalf("trap saw %+v, hits %v", got, hits.ByEndpoint())
	}
}

func TestStallAndFlood(t *testing.T) {
	srv := httptest.NewServer(Flood(3<<20+5, false))
	defer srv.Close()
	res, err := http.Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if n != 3<<20+5 || res.ContentLength != -1 {
		t.Fatalf("Flood sent %d bytes, Content-Length %d", n, res.ContentLength)
	}
	stall := httptest.NewServer(Stall(200 * time.Millisecond))
	defer stall.Close()
	start := time.Now()
	res, err = http.Post(stall.URL, "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	head := time.Since(start)
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if head > 100*time.Millisecond || time.Since(start) < 200*time.Millisecond || string(b) != `{"data":{"ads":[` {
		t.Fatalf("headers after %s, body %q after %s", head, b, time.Since(start))
	}
}
