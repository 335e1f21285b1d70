package apitest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// CDN switches on a fake media CDN (Options.CDN): a second HTTP server on
// loopback that the media URLs of the data point at — ad videos (videos[].url),
// their covers (cover_image_url), image_urls, download_url, and the
// commercial-content videos' url and cover_image_url. The URLs look like the
// live signed links (…?x-expires=<unix>&x-signature=…%3D), and every object is
// a deterministic function of its path, so a test can compare what a
// harvester stored with CDNExpect's sha256. The CDN records every request
// with its headers (CDNRequests) so that a test can prove no credential ever
// reached it (CDNLeaks).
//
// Which objects misbehave is a deterministic choice per object with the
// given probabilities; the choices are independent, except that an expired or
// removed object is never slow or large.
type CDN struct {
	// Expired is the share of links whose x-expires lies in the past: the
	// CDN answers 403 AccessDenied. (Any link is refused the same way once
	// Options.Now passes its x-expires, and a link whose x-signature does
	// not match its path and x-expires is refused too.)
	Expired float64
	// Removed is the share of objects that are gone: 404 for half of them,
	// 410 for the others.
	Removed float64
	// Slow is the share of objects served after SlowDelay; 0 delay means 1s.
	Slow      float64
	SlowDelay time.Duration
	// Large is the share of objects of LargeSize bytes (plus up to 64 KiB);
	// 0 size means 4 MiB. Other images are 2-48 KiB, other videos 64-384 KiB.
	Large     float64
	LargeSize int
	// Small serves the other objects at a fraction of their size (images
	// 128 B-3 KiB, videos 4-24 KiB), for the demo, whose thousands of
	// creatives would otherwise fill gigabytes; large objects stay large.
	Small bool
}

// DefaultCDN is a CDN with every kind of trouble: 5% expired links, 5%
// removed objects, 3% slow (300 ms) and 3% large (4 MiB) ones.
func DefaultCDN() *CDN {
	return &CDN{Expired: 0.05, Removed: 0.05, Slow: 0.03, SlowDelay: 300 * time.Millisecond, Large: 0.03, LargeSize: 4 << 20}
}

// CDNObject is what the CDN answers for a URL.
type CDNObject struct {
	// Status is 200, 403 (expired, bad signature), 404 or 410 (removed, or
	// not a media path at all).
	Status int
	// Kind is the media kind: ad-video, ad-cover, ad-image, ad-download,
	// cc-cover or cc-video ("" for a path the CDN does not know).
	Kind        string
	ContentType string
	// Size and SHA256 (hex) describe the 200 body; zero otherwise.
	Size                          int64
	SHA256                        string
	Expired, Removed, Slow, Large bool
}

// CDNRequest is the record of one request to the CDN.
type CDNRequest struct {
	Method string
	// URL is the request URI as received (path and raw query).
	URL string
	// Header is every request header, as received.
	Header http.Header
	// Status is the HTTP status sent (0 when the client went away during a
	// slow answer); Bytes the body bytes written.
	Status int
	Bytes  int64
	Time   time.Time
}

// cdnClass is the deterministic character of one media object.
type cdnClass struct {
	kind                          string
	expired, removed, slow, large bool
	gone410                       bool
	size                          int64
}

const (
	// expiresValid is the x-expires of a good link (2100-01-01): far enough
	// that no test clock reaches it.
	expiresValid = 4_102_444_800
	// expiresPast is before Epoch, so an expired link is expired for every
	// "today" the API accepts.
	expiresPast = 1_664_582_400 - 86_400
)

// parseMediaPath checks a CDN path: /obj/<kind>/<token>/ for videos,
// /obj/<kind>/<token>.jpeg for images.
func parseMediaPath(p string) (kind string, ok bool) {
	rest, ok := strings.CutPrefix(p, "/obj/")
	if !ok {
		return "", false
	}
	kind, tok, ok := strings.Cut(rest, "/")
	if !ok || !slices.Contains(mediaKinds, kind) {
		return "", false
	}
	want := 20
	if mediaIsVideo(kind) {
		tok, ok = strings.CutSuffix(tok, "/")
		want = 26
	} else {
		tok, ok = strings.CutSuffix(tok, ".jpeg")
	}
	if !ok || len(tok) != want || strings.Trim(tok, "0123456789abcdef") != "" {
		return "", false
	}
	return kind, true
}

func (u *Universe) classifyMedia(path string) (cdnClass, bool) {
	kind, ok := parseMediaPath(path)
	if !ok {
		return cdnClass{}, false
	}
	ph := hashString(path)
	h := func(i uint64) uint64 { return u.hash(tagCDN, ph, i, 0) }
	c := cdnClass{kind: kind}
	c.expired = unitFloat(h(1)) < u.cdn.Expired
	c.removed = !c.expired && unitFloat(h(2)) < u.cdn.Removed
	c.gone410 = h(2)&1 == 1
	ok2 := !c.expired && !c.removed
	c.slow = ok2 && unitFloat(h(3)) < u.cdn.Slow
	c.large = ok2 && unitFloat(h(4)) < u.cdn.Large
	switch {
	case c.large:
		size := u.cdn.LargeSize
		if size <= 0 {
			size = 4 << 20
		}
		c.size = int64(size) + int64(h(5)%65536)
	case mediaIsVideo(kind):
		c.size = 65536 + int64(h(5)%(320*1024))
	default:
		c.size = 2048 + int64(h(5)%(46*1024))
	}
	if u.cdn.Small && !c.large {
		c.size /= 16
	}
	return c, true
}

func (u *Universe) cdnSignature(path string, expires int64) string {
	ph := hashString(path)
	return fmt.Sprintf("%016x%012x", u.hash(tagCDN, ph, uint64(expires), 1), u.hash(tagCDN, ph, uint64(expires), 2)>>16)
}

// cdnURL is the signed link of a media object on the fake CDN.
func (u *Universe) cdnURL(kind, tok string) string {
	path := "/obj/" + kind + "/" + tok
	if mediaIsVideo(kind) {
		path += "/"
	} else {
		path += ".jpeg"
	}
	c, _ := u.classifyMedia(path)
	ph := hashString(path)
	exp := int64(expiresValid + u.hash(tagCDN, ph, 6, 0)%86_400)
	if c.expired {
		exp = int64(expiresPast - u.hash(tagCDN, ph, 6, 0)%(30*86_400))
	}
	q := "x-expires=" + strconv.FormatInt(exp, 10) + "&x-signature=" + u.cdnSignature(path, exp) + "%3D"
	if mediaIsVideo(kind) {
		q = "mime_type=video_mp4&" + q
	}
	return u.cdnBase + path + "?" + q
}

var (
	jpegMagic = []byte{0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}
	mp4Magic  = []byte{0x00, 0x00, 0x00, 0x18, 'f', 't', 'y', 'p', 'm', 'p', '4', '2'}
)

// mediaBytes are the deterministic content of an object: a file signature,
// then a ChaCha8 stream keyed by the seed and the path.
func (u *Universe) mediaBytes(path string, c cdnClass) []byte {
	var seed [8]byte
	binary.BigEndian.PutUint64(seed[:], u.seed)
	key := sha256.Sum256(append(seed[:], path...))
	b := make([]byte, c.size)
	_, _ = rand.NewChaCha8(key).Read(b)
	if mediaIsVideo(c.kind) {
		copy(b, mp4Magic)
	} else {
		copy(b, jpegMagic)
	}
	return b
}

func mediaContentType(kind string) string {
	if mediaIsVideo(kind) {
		return "video/mp4"
	}
	return "image/jpeg"
}

// cdnDecide is the answer for a request URL at now: the object, its class,
// and whether it is served.
func (u *Universe) cdnDecide(path string, q url.Values, now time.Time) (CDNObject, cdnClass) {
	c, ok := u.classifyMedia(path)
	if !ok {
		return CDNObject{Status: http.StatusNotFound}, c
	}
	obj := CDNObject{Kind: c.kind, ContentType: mediaContentType(c.kind), Expired: c.expired, Removed: c.removed, Slow: c.slow, Large: c.large}
	exp, err := strconv.ParseInt(q.Get("x-expires"), 10, 64)
	switch {
	case err != nil || q.Get("x-signature") != u.cdnSignature(path, exp)+"=":
		obj.Status = http.StatusForbidden
	case exp <= now.Unix():
		obj.Status, obj.Expired = http.StatusForbidden, true
	case c.removed && c.gone410:
		obj.Status = http.StatusGone
	case c.removed:
		obj.Status = http.StatusNotFound
	default:
		obj.Status = http.StatusOK
		obj.Size = c.size
	}
	return obj, c
}

// ---- the server side -------------------------------------------------------

type cdnServer struct {
	ts   *httptest.Server
	mu   sync.Mutex
	reqs []CDNRequest
}

// CDNURL is the base URL of the fake CDN, "" without Options.CDN.
func (s *Server) CDNURL() string {
	if s.cdn == nil {
		return ""
	}
	return s.cdn.ts.URL
}

// CDNExpect is what the CDN answers for rawURL now (Options.Now), with the
// sha256 of the body when it is a 200.
func (s *Server) CDNExpect(rawURL string) CDNObject {
	obj, _ := s.cdnExpect(rawURL, true)
	return obj
}

// CDNBody is the body the CDN serves for rawURL now, nil when it does not
// answer 200.
func (s *Server) CDNBody(rawURL string) []byte {
	_, b := s.cdnExpect(rawURL, false)
	return b
}

func (s *Server) cdnExpect(rawURL string, sum bool) (CDNObject, []byte) {
	pu, err := url.Parse(rawURL)
	if err != nil {
		return CDNObject{Status: http.StatusNotFound}, nil
	}
	obj, c := s.u.cdnDecide(pu.Path, pu.Query(), s.opts.Now())
	if obj.Status != http.StatusOK {
		return obj, nil
	}
	b := s.u.mediaBytes(pu.Path, c)
	if sum {
		h := sha256.Sum256(b)
		obj.SHA256 = hex.EncodeToString(h[:])
	}
	return obj, b
}

// CDNRequests returns every request the CDN received, in arrival order.
func (s *Server) CDNRequests() []CDNRequest {
	if s.cdn == nil {
		return nil
	}
	s.cdn.mu.Lock()
	defer s.cdn.mu.Unlock()
	out := make([]CDNRequest, len(s.cdn.reqs))
	for i, r := range s.cdn.reqs {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// CDNLeaks lists every credential that reached the CDN: an Authorization
// or Proxy-Authorization header, or the client secret or an access token the
// server issued anywhere in a header or the URL. Empty is the only good
// answer: media links are public, and a harvester that sends its token to
// whatever host a response names leaks it.
func (s *Server) CDNLeaks() []string {
	secrets := append([]string{s.opts.ClientSecret}, s.Tokens()...)
	var out []string
	for i, r := range s.CDNRequests() {
		for _, h := range []string{"Authorization", "Proxy-Authorization"} {
			if v := r.Header.Get(h); v != "" {
				scheme, _, _ := strings.Cut(v, " ")
				out = append(out, fmt.Sprintf("request %d (%s): %s header (%s …)", i, r.URL, h, scheme))
			}
		}
		has := func(v string) bool {
			for _, sec := range secrets {
				if sec != "" && strings.Contains(v, sec) {
					return true
				}
			}
			return false
		}
		uq, _ := url.QueryUnescape(r.URL)
		if has(r.URL) || has(uq) {
			out = append(out, fmt.Sprintf("request %d (%s): credential in the URL", i, r.URL))
		}
		for _, k := range slices.Sorted(maps.Keys(r.Header)) {
			if k == "Authorization" || k == "Proxy-Authorization" {
				continue // reported above
			}
			for _, v := range r.Header[k] {
				if has(v) {
					out = append(out, fmt.Sprintf("request %d (%s): credential in header %s", i, r.URL, k))
				}
			}
		}
	}
	return out
}

type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (s *Server) serveCDN(rw http.ResponseWriter, r *http.Request) {
	c := s.cdn
	rec := CDNRequest{Method: r.Method, URL: r.URL.RequestURI(), Header: r.Header.Clone(), Time: time.Now()}
	c.mu.Lock()
	c.reqs = append(c.reqs, rec)
	i := len(c.reqs) - 1
	c.mu.Unlock()
	w := &countingWriter{ResponseWriter: rw}
	defer func() {
		c.mu.Lock()
		c.reqs[i].Status, c.reqs[i].Bytes = w.status, w.n
		c.mu.Unlock()
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	obj, cl := s.u.cdnDecide(r.URL.Path, r.URL.Query(), s.opts.Now())
	switch obj.Status {
	case http.StatusForbidden:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Request has expired or the signature does not match</Message></Error>\n")
		return
	case http.StatusNotFound, http.StatusGone:
		http.Error(w, http.StatusText(obj.Status), obj.Status)
		return
	}
	if cl.slow {
		delay := s.u.cdn.SlowDelay
		if delay <= 0 {
			delay = time.Second
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		case <-s.done:
			t.Stop()
			return
		}
	}
	body := s.u.mediaBytes(r.URL.Path, cl)
	sum := sha256.Sum256(body)
	w.Header().Set("Content-Type", obj.ContentType)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	w.Header().Set("Cache-Control", "max-age=86400")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}
