package media

import (
	"adharvest/internal/origin"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	mrand "math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"adharvest/checkpoint"
	"adharvest/folder"
	"adharvest/sink"

	"golang.org/x/time/rate"
)

// Defaults of Options.
const (
	DefaultMaxFileSize = 512 << 20
	DefaultConcurrency = 4
	DefaultRetries     = 3
	DefaultRetryBase   = time.Second
	// DefaultStall is how long a body may send nothing before the download
	// is abandoned (and tried again).
	DefaultStall = 60 * time.Second
	// DefaultFileTimeout bounds one download in all.
	DefaultFileTimeout = 30 * time.Minute
	// MaxRetryAfter is the longest Retry-After honoured within a run; a
	// longer one fails the link for this run.
	MaxRetryAfter = time.Minute
	maxRedirects  = 3
)

// Fetcher downloads one link at a time into the content store, with its own
// HTTP client, rate limiter and byte budget. It is safe for concurrent use.
type Fetcher struct {
	f       folder.Folder
	o       Options
	client  *http.Client
	limiter *rate.Limiter
	budget  *budget
}

// NewFetcher returns a Fetcher for the output folder f (see Options for the
// defaults of its zero fields). It sends nothing.
func NewFetcher(f folder.Folder, o Options) *Fetcher {
	o.defaults()
	lim := rate.NewLimiter(rate.Inf, 1)
	if o.RPS > 0 {
		lim = rate.NewLimiter(rate.Limit(o.RPS), 1)
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   max(o.Concurrency, 2),
		ForceAttemptHTTP2:     true,
		// Store exactly the bytes the CDN serves, and never inflate a
		// compressed body past the cap unseen.
		DisableCompression: true,
	}
	return &Fetcher{
		f: f, o: o, limiter: lim, budget: &budget{limit: o.Budget},
		// A plain client of its own: no cookie jar, no default headers, and
		// redirects within the link's own origin only.
		client: &http.Client{Transport: tr, CheckRedirect: checkRedirect},
	}
}

// Downloaded is the body bytes this Fetcher has read, kept or not.
func (x *Fetcher) Downloaded() int64 { return x.budget.used() }

// Close releases idle connections.
func (x *Fetcher) Close() { x.client.CloseIdleConnections() }

// checkRedirect follows a redirect only within the origin (scheme, host and
// port) of the link first asked, at most maxRedirects times.
func checkRedirect(req *http.Request, via []*http.Request) error {
	first := via[0].URL
	if !origin.Same(req.URL, first) {
		return refusedf("refused: a redirect from %s to another origin (%s://%s)", hostText(first), strings.ToLower(req.URL.Scheme), hostText(req.URL))
	}
	if len(via) >= maxRedirects {
		return refusedf("refused: more than %d redirects", maxRedirects)
	}
	req.Header.Del("Referer") // net/http adds the link redirected from
	return nil
}

// retryable is a failure worth another try within the run.
type retryable struct {
	err   error
	after time.Duration // the server's Retry-After, 0 when none
}

func (e *retryable) Error() string { return e.err.Error() }
func (e *retryable) Unwrap() error { return e.err }

// fatalError is a local failure (the disk) that ends the whole run.
type fatalError struct{ err error }

func (e *fatalError) Error() string { return e.err.Error() }
func (e *fatalError) Unwrap() error { return e.err }

var errStalled = errors.New("the download stalled")

// Fetch tries one link and returns how it ended, with FetchedAt set; it
// retries network errors, 408, 429 and 5xx answers a few times within the
// run (Options.Retries). The error is non-nil only for a stop (ErrBudget, the
// context's error) or a local failure such as a full disk; nothing of the
// link is then kept, and its state should not be recorded.
func (x *Fetcher) Fetch(ctx context.Context, raw string) (checkpoint.Media, error) {
	m := checkpoint.Media{URL: raw, FetchedAt: x.o.Now().UTC()}
	u, err := CheckURL(raw)
	if err != nil {
		m.Status, m.Err = checkpoint.MediaFailed, err.Error()
		return m, nil
	}
	if exp, ok := expiresAt(raw); ok && !exp.After(x.o.Now()) {
		e := expiredUnasked(raw, exp)
		e.FetchedAt = m.FetchedAt
		return e, nil
	}
	if x.o.Offline && !isLoopback(u.Hostname()) {
		m.Status, m.Err = checkpoint.MediaFailed, "not fetched: offline run, loopback hosts only ("+hostText(u)+")"
		return m, nil
	}
	for attempt := 0; ; attempt++ {
		if err := x.limiter.Wait(ctx); err != nil {
			return m, stopCause(ctx, err)
		}
		m = checkpoint.Media{URL: raw, FetchedAt: x.o.Now().UTC()}
		err := x.once(ctx, u, &m)
		var re *retryable
		if err == nil || !errors.As(err, &re) {
			return m, err
		}
		if ctx.Err() != nil {
			return m, ctx.Err()
		}
		if attempt >= x.o.Retries || re.after > MaxRetryAfter {
			m.Status, m.Err = checkpoint.MediaFailed, clip(re.Error())
			return m, nil
		}
		wait := max(re.after, backoff(x.o.RetryBase, attempt))
		x.o.Logf("media: %s: %v; trying again in %s", hostText(u), re.err, wait.Round(time.Millisecond))
		if err := sleep(ctx, wait); err != nil {
			return m, err
		}
	}
}

func stopCause(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

func backoff(base time.Duration, attempt int) time.Duration {
	d := base * time.Duration(1<<min(attempt, 5))
	d += time.Duration(mrand.Int64N(int64(d)/2 + 1))
	return min(d, 30*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// once sends one request. It returns nil with m's Status set when the answer
// is final for this run, a *retryable for another try, or a stop.
func (x *Fetcher) once(ctx context.Context, u *url.URL, m *checkpoint.Media) error {
	tctx, stop := context.WithTimeout(ctx, x.o.FileTimeout)
	defer stop()
	rctx, cancel := context.WithCancelCause(tctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, u.String(), nil)
	if err != nil {
		m.Status, m.Err = checkpoint.MediaFailed, clip(err.Error())
		return nil
	}
	// Only these two headers: no Authorization, no Cookie, no Referer.
	req.Header.Set("User-Agent", x.o.UserAgent)
	req.Header.Set("Accept", "*/*")
	stall := time.AfterFunc(x.o.Stall, func() { cancel(errStalled) })
	defer stall.Stop()
	resp, err := x.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var re *refusedError
		if errors.As(err, &re) {
			m.Status, m.Err = checkpoint.MediaFailed, re.msg
			return nil
		}
		if errors.Is(context.Cause(rctx), errStalled) {
			return &retryable{err: errStalled}
		}
		return &retryable{err: transportErr(err)}
	}
	defer resp.Body.Close()
	m.HTTPStatus = resp.StatusCode
	m.ContentType = mediaType(resp.Header.Get("Content-Type"))
	if resp.ContentLength > 0 {
		m.ContentLength = resp.ContentLength
	}
	code := resp.StatusCode
	switch {
	case code == http.StatusOK:
		return x.save(ctx, rctx, stall, resp, m)
	case code == http.StatusForbidden:
		m.Status, m.Err = checkpoint.MediaExpired, "HTTP 403: the link's signature is stale or refused"
	case code == http.StatusNotFound || code == http.StatusGone:
		m.Status, m.Err = checkpoint.MediaRemoved, fmt.Sprintf("HTTP %d", code)
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		drain(resp.Body)
		return &retryable{err: fmt.Errorf("HTTP %d", code), after: retryAfter(resp.Header.Get("Retry-After"), x.o.Now())}
	default:
		m.Status, m.Err = checkpoint.MediaFailed, fmt.Sprintf("HTTP %d", code)
	}
	drain(resp.Body)
	m.ContentType, m.ContentLength = "", 0
	return nil
}

// save streams a 200 body into the store: to a temporary file under the
// state folder, fsynced, then renamed to its hash's name in the store, whose
// folder is fsynced. It never holds more than the cap, and never reads past
// the budget.
func (x *Fetcher) save(ctx, rctx context.Context, stall *time.Timer, resp *http.Response, m *checkpoint.Media) error {
	limit := x.o.MaxFileSize
	cl := resp.ContentLength
	if cl > limit {
		m.Status, m.Cap, m.Err = checkpoint.MediaTooLarge, limit, fmt.Sprintf("%d bytes announced, above the cap of %d", cl, limit)
		return nil
	}
	var reserved, read int64
	if cl >= 0 {
		if !x.budget.take(cl) {
			return ErrBudget
		}
		reserved = cl
	}
	var head []byte
	staging := filepath.Join(x.f.MediaTemp(), sink.TempPrefix+"dl-"+randomHex())
	sum, err := sink.WriteFileAtomicSum(staging, func(w io.Writer) error {
		buf := make([]byte, 64<<10)
		for {
			n, rerr := resp.Body.Read(buf)
			if n > 0 {
				stall.Reset(x.o.Stall)
				read += int64(n)
				if read > limit {
					return errTooLarge
				}
				if cl < 0 {
					if !x.budget.take(int64(n)) {
						return ErrBudget
					}
					reserved += int64(n)
				}
				if len(head) < 512 {
					head = append(head, buf[:min(n, 512-len(head))]...)
				}
				if _, err := w.Write(buf[:n]); err != nil {
					return &fatalError{err: err}
				}
			}
			if rerr == io.EOF {
				break
			}
			if rerr != nil {
				return &retryable{err: fmt.Errorf("the body was cut short after %d bytes: %w", read, transportErr(rerr))}
			}
		}
		if cl >= 0 && read != cl {
			return &retryable{err: fmt.Errorf("the body was cut short after %d of %d bytes", read, cl)}
		}
		if read == 0 {
			return &retryable{err: errors.New("empty body")}
		}
		return nil
	})
	if reserved > read {
		x.budget.give(reserved - read)
	}
	var fe *fatalError
	var re *retryable
	switch {
	case err == nil:
	case errors.Is(err, errTooLarge):
		os.Remove(staging)
		m.Status, m.Cap, m.Err = checkpoint.MediaTooLarge, limit, fmt.Sprintf("more than the cap of %d bytes", limit)
		return nil
	case errors.Is(err, ErrBudget):
		return ErrBudget
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(context.Cause(rctx), errStalled):
		return &retryable{err: errStalled}
	case errors.As(err, &fe):
		return fe
	case errors.As(err, &re):
		return re
	default:
		// The atomic write itself (the temporary file, fsync, rename).
		return &fatalError{err: err}
	}
	ext := extFor(head)
	final := x.f.MediaFile(sum.SHA256, ext)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		os.Remove(staging)
		return &fatalError{err: err}
	}
	// Renaming over an existing copy replaces it with identical bytes (the
	// name is the hash), which also heals a damaged one.
	if err := os.Rename(staging, final); err != nil {
		os.Remove(staging)
		return &fatalError{err: fmt.Errorf("store %s: %w", folder.MediaRel(sum.SHA256, ext), err)}
	}
	if err := sink.SyncDir(filepath.Dir(final)); err != nil {
		return &fatalError{err: err}
	}
	m.Status, m.SHA256, m.Bytes, m.Path, m.Err = checkpoint.MediaOK, sum.SHA256, sum.Size, folder.MediaRel(sum.SHA256, ext), ""
	return nil
}

// transportErr is a client error without the url.Error wrapper, which
// repeats the whole signed link.
func transportErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func drain(r io.Reader) { _, _ = io.CopyN(io.Discard, r, 4<<10) }

// retryAfter reads a Retry-After header (seconds or an HTTP date).
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
		return time.Duration(min(n, math.MaxInt32)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// mediaType is a Content-Type's media type, without parameters, if it looks
// like one.
func mediaType(v string) string {
	t, _, err := mime.ParseMediaType(v)
	if err != nil || len(t) > 100 || strings.Trim(t, "abcdefghijklmnopqrstuvwxyz0123456789.+-/") != "" {
		return ""
	}
	return t
}

// sniffedExt are the extensions given to content of a sniffed type. The
// extension comes from the bytes, never from the URL or the server's
// headers, so one content always gets one name.
var sniffedExt = map[string]string{
	"video/mp4":  ".mp4",
	"video/webm": ".webm",
	"image/jpeg": ".jpeg",
	"image/png":  ".png",
	"image/gif":  ".gif",
	"image/webp": ".webp",
	"image/bmp":  ".bmp",
	"audio/mpeg": ".mp3",
}

func extFor(head []byte) string {
	t, _, _ := strings.Cut(http.DetectContentType(head), ";")
	return sniffedExt[t]
}

func randomHex() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// clip bounds a message kept in the state and the table.
func clip(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}

// budget is a run's byte budget; limit 0 is none.
type budget struct {
	mu           sync.Mutex
	limit, usedN int64
}

// take reserves n bytes, false when they would pass the limit.
func (b *budget) take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit > 0 && b.usedN+n > b.limit {
		return false
	}
	b.usedN += n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.usedN -= n
	b.mu.Unlock()
}

func (b *budget) used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.usedN
}
