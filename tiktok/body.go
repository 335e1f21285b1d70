package tiktok

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// DefaultMaxBodyBytes bounds one response body, compressed on the wire and
// again inflated: 64 MiB. A real page of 50 ads, or one ad's detail, is well
// under 1 MiB, so the limit only stops a server that sends an endless body or
// a gzip bomb (300 MiB from 300 KB).
const DefaultMaxBodyBytes int64 = 64 << 20

// smallBody is what any number of workers may hold at once: a body grows past
// it only while its worker holds the client's single large-body slot. With
// --concurrency N the bodies in memory are therefore bounded by about
// N × 1 MiB + MaxBodyBytes, whatever the servers send, instead of
// N × MaxBodyBytes.
const smallBody = 1 << 20

// maxTokenBody bounds a token endpoint's answer, which is a few hundred bytes.
const maxTokenBody = 64 << 10

// bodyReader reads one response body within the client's limits: at most limit
// bytes on the wire and limit bytes inflated, no byte for idle ends it (the
// attempt's context is cancelled with a stallError), and the part beyond
// smallBody waits for the large-body slot.
type bodyReader struct {
	c        *Client
	endpoint string
	limit    int64
	idle     *idleTimer
}

// read returns the body, or a *BodyError (ErrBodyTooLarge for a body over the
// limit), or, when ctx ended (a stall, the per-request bound, the caller), the
// bare read error, which the caller words from ctx's cause.
func (br *bodyReader) read(ctx context.Context, res *http.Response) ([]byte, error) {
	fail := func(head []byte, err error) ([]byte, error) {
		return nil, &BodyError{Endpoint: br.endpoint, HTTPStatus: res.StatusCode, Excerpt: br.c.excerpt(head), Err: err}
	}
	if res.ContentLength > br.limit {
		return fail(nil, &tooLargeError{limit: br.limit})
	}
	wire := &capReader{r: br.idle.wrap(res.Body), n: br.limit, err: &tooLargeError{limit: br.limit, compressed: true}}
	var r io.Reader = wire
	gzipped := false
	switch enc := strings.ToLower(strings.TrimSpace(res.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		wire.err = &tooLargeError{limit: br.limit}
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(wire)
		if err != nil {
			if ctx.Err() != nil {
				return nil, err
			}
			return fail(nil, fmt.Errorf("gzip body: %w", err))
		}
		defer zr.Close()
		r, gzipped = zr, true
	default:
		return fail(nil, fmt.Errorf("unsupported Content-Encoding %q (the client asks for gzip only)", br.c.text(enc, fieldLen)))
	}
	hint := int64(0)
	if !gzipped && res.ContentLength > 0 {
		hint = res.ContentLength
	}
	body, err := br.readAll(ctx, r, hint)
	if err != nil {
		if errors.Is(err, ErrBodyTooLarge) {
			return fail(body, err)
		}
		if ctx.Err() != nil {
			return nil, err
		}
		if gzipped && !errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("gzip body: %w", err)
		}
		return fail(body, err)
	}
	return body, nil
}

// readAll reads r to its end in pieces, so that a body over the limit costs at
// most limit bytes and is never copied while it grows. On ErrBodyTooLarge it
// returns the body's first bytes, for the excerpt.
func (br *bodyReader) readAll(ctx context.Context, r io.Reader, hint int64) ([]byte, error) {
	small := int(min(smallBody, br.limit+1))
	first := make([]byte, 0, min(max(hint+1, 16<<10), int64(small)))
	first, err := fill(r, first, small)
	if int64(len(first)) > br.limit {
		return first, &tooLargeError{limit: br.limit}
	}
	if err != nil || len(first) < small {
		return first, eof(err)
	}
	// Beyond smallBody: one large body at a time across all workers.
	br.idle.pause()
	release, err := br.c.largeBodySlot(ctx)
	br.idle.resume()
	if err != nil {
		return first, err
	}
	defer release()
	parts := [][]byte{}
	defer func() {
		for _, p := range parts {
			partPool.Put(&p)
		}
	}()
	total := int64(len(first))
	for {
		part := (*partPool.Get().(*[]byte))[:0]
		part, err = fill(r, part, int(min(smallBody, br.limit-total+1)))
		parts = append(parts, part)
		total += int64(len(part))
		if total > br.limit {
			return first, &tooLargeError{limit: br.limit}
		}
		if err != nil || len(part) < smallBody {
			if err = eof(err); err != nil {
				return first, err
			}
			break
		}
	}
	out := make([]byte, 0, total)
	out = append(out, first...)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out, nil
}

// partPool recycles the pieces of large bodies. Only the holder of the
// large-body slot uses them, so the pool holds about MaxBodyBytes at most, and
// a server that sends one oversized body after another is answered from the
// same memory instead of a new MaxBodyBytes each time.
var partPool = sync.Pool{New: func() any {
	b := make([]byte, 0, smallBody)
	return &b
}}

// fill reads into buf until it holds n bytes, growing it as needed; io.EOF is
// returned as is.
func fill(r io.Reader, buf []byte, n int) ([]byte, error) {
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(max(2*cap(buf), 4<<10), n))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func eof(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// largeBodySlot waits for the client's one slot for bodies over smallBody.
func (c *Client) largeBodySlot(ctx context.Context) (release func(), err error) {
	select {
	case c.large <- struct{}{}:
		return func() { <-c.large }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// capReader passes at most n bytes through and then fails with err.
type capReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, c.err
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	m, err := c.r.Read(p)
	c.n -= int64(m)
	if c.n < 0 {
		return m + int(c.n), c.err
	}
	return m, err
}

// idleTimer cancels an attempt when its body sends no byte for d. A nil
// *idleTimer does nothing (the token request has one overall timeout).
type idleTimer struct {
	d      time.Duration
	mu     sync.Mutex
	t      *time.Timer
	paused bool
}

// startIdle arms the timer; fire runs once when the body has been silent for d.
func startIdle(d time.Duration, fire func()) *idleTimer {
	it := &idleTimer{d: d}
	it.t = time.AfterFunc(d, fire)
	return it
}

func (it *idleTimer) stop() {
	if it != nil {
		it.t.Stop()
	}
}

// pause stops the clock while the client itself, not the server, holds the
// body back.
func (it *idleTimer) pause() {
	if it == nil {
		return
	}
	it.mu.Lock()
	it.paused = true
	it.t.Stop()
	it.mu.Unlock()
}

func (it *idleTimer) resume() {
	if it == nil {
		return
	}
	it.mu.Lock()
	it.paused = false
	it.t.Reset(it.d)
	it.mu.Unlock()
}

func (it *idleTimer) kick() {
	it.mu.Lock()
	if !it.paused {
		it.t.Reset(it.d)
	}
	it.mu.Unlock()
}

func (it *idleTimer) wrap(r io.Reader) io.Reader {
	if it == nil {
		return r
	}
	return idleReader{r: r, it: it}
}

type idleReader struct {
	r  io.Reader
	it *idleTimer
}

func (r idleReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if n > 0 {
		r.it.kick()
	}
	return n, err
}
