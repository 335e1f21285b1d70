package tiktok

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"adharvest/tiktok/apitest"
)

// The controller, on a fake clock.

type rateClock struct{ t time.Time }

func (c *rateClock) now() time.Time           { return c.t }
func (c *rateClock) add(d time.Duration)      { c.t = c.t.Add(d) }
func newRateClock() *rateClock                { return &rateClock{t: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)} }
func near(got, want, tol float64) bool        { return math.Abs(got-want) <= tol }
func (a *autoRate) turnNow(paced bool) ticket { return a.turnAt(paced) }

// turnAt is the ticket wait would give now, and records the request as sent.
func (a *autoRate) turnAt(paced bool) ticket {
	a.mu.Lock()
	tk := ticket{at: a.now(), rate: a.rate, sending: a.sending(), paced: paced}
	a.mu.Unlock()
	a.sent(tk)
	return tk
}

// drive sends at the controller's rate for d, every answer coming back after
// latency with what answer says about it; the sender always has a request
// ready.
func drive(a *autoRate, clk *rateClock, d, latency time.Duration, answer func(tk ticket) outcome) {
	type inflight struct {
		due time.Time
		tk  ticket
	}
	var q []inflight
	end := clk.now().Add(d)
	next := clk.now()
	for clk.now().Before(end) {
		clk.add(time.Millisecond)
		for len(q) > 0 && !q[0].due.After(clk.now()) {
			a.done(q[0].tk, answer(q[0].tk))
			q = q[1:]
		}
		if !clk.now().Before(next) {
			tk := a.turnNow(true)
			q = append(q, inflight{due: clk.now().Add(latency), tk: tk})
			next = clk.now().Add(time.Duration(float64(time.Second) / a.Rate()))
		}
	}
}

// simulate runs workers as a crawl's do, on the fake clock in 1 ms steps,
// against a token bucket decided at arrival like apitest's: each worker
// waits for its turn, sends, waits latency for the answer, and after a 429
// waits out Retry-After (rounded up to whole seconds, at least 1) before its
// retry. It returns the requests sent and throttled and the calls completed.
func simulate(a *autoRate, clk *rateClock, b *bucket, workers int, d, latency time.Duration) (sent, thr, calls int) {
	type worker struct {
		ready time.Time // when it next wants a turn
		due   time.Time // when its answer comes, if busy
		tk    ticket
		busy  bool
		ok    bool
	}
	ws := make([]*worker, workers)
	for i := range ws {
		ws[i] = &worker{ready: clk.now()}
	}
	var last time.Time
	end := clk.now().Add(d)
	for clk.now().Before(end) {
		clk.add(time.Millisecond)
		now := clk.now()
		for _, w := range ws {
			if w.busy && !w.due.After(now) {
				w.busy = false
				if w.ok {
					calls++
					a.done(w.tk, clean)
					w.ready = now
				} else {
					a.done(w.tk, throttled)
					w.ready = now.Add(time.Second)
				}
			}
		}
		// One turn a step at most, to the worker that has waited longest.
		var first *worker
		waiting := 0
		for _, w := range ws {
			if !w.busy && !w.ready.After(now) {
				waiting++
				if first == nil || w.ready.Before(first.ready) {
					first = w
				}
			}
		}
		if first == nil || now.Sub(last) < time.Duration(float64(time.Second)/a.Rate()) {
			continue
		}
		last = now
		first.tk = a.turnNow(waiting > 1 || first.ready.Before(now))
		first.busy, first.due = true, now.Add(latency)
		first.ok = b.take(now)
		sent++
		if !first.ok {
			thr++
		}
	}
	return sent, thr, calls
}

// bucket is a token bucket on the fake clock, like apitest's.
type bucket struct {
	perSecond, burst, tokens float64
	last                     time.Time
}

func (b *bucket) take(at time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+at.Sub(b.last).Seconds()*b.perSecond)
	}
	b.last = at
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

func TestAutoRateSlowStart(t *testing.T) {
	clk := newRateClock()
	a := newAutoRate(0, 0, clk.now)
	if a.Rate() != DefaultInitialRate || a.Learned() != 0 {
		t.Fatalf("cold start at %v, learned %v", a.Rate(), a.Learned())
	}
	// Clean answers but no request waited for its turn: the rate binds
	// nothing, so it shows nothing about the server.
	for range 10 {
		clk.add(50 * time.Millisecond)
		a.done(a.turnNow(false), clean)
	}
	if a.Rate() != DefaultInitialRate {
		t.Fatalf("rate rose to %v without binding", a.Rate())
	}
	// Paced requests but no answer yet: nothing either.
	clk.add(time.Second)
	tk := a.turnNow(true)
	if a.done(tk, neutral); a.Rate() != DefaultInitialRate {
		t.Fatalf("rate rose to %v on a neutral answer", a.Rate())
	}
	// Bound and clean: doubles every ssStep.
	drive(a, clk, 2*time.Second, 10*time.Millisecond, func(ticket) outcome { return clean })
	if r := a.Rate(); r < 1000 {
		t.Fatalf("after 2 s of clean answers at the rate, %v/s", r)
	}
	if a.Learned() != 0 {
		t.Fatalf("learned %v without a throttle", a.Learned())
	}
}

func TestAutoRateCutOncePerOvershoot(t *testing.T) {
	clk := newRateClock()
	a := newAutoRate(0, 0, clk.now)
	a.rate = 64
	var before []ticket
	for range 6 {
		clk.add(15 * time.Millisecond)
		before = append(before, a.turnNow(true))
	}
	clk.add(50 * time.Millisecond)
	a.done(before[0], throttled)
	if r, l := a.Rate(), a.Learned(); r != 32 || !near(l, 0.95*64, 1e-9) {
		t.Fatalf("after leaving slow start: rate %v, learned %v", r, l)
	}
	// The other 429s of the same overshoot were sent before the cut.
	for _, tk := range before[1:] {
		a.done(tk, throttled)
	}
	if a.Rate() != 32 {
		t.Fatalf("one overshoot cut again: %v", a.Rate())
	}
	// A request sent after the cut and throttled too: cut by 0.8.
	clk.add(40 * time.Millisecond)
	tk := a.turnNow(true)
	clk.add(50 * time.Millisecond)
	if a.done(tk, throttled); !near(a.Rate(), 0.8*32, 1e-9) || !near(a.Learned(), 0.95*32, 1e-9) {
		t.Fatalf("second cut: rate %v, learned %v", a.Rate(), a.Learned())
	}
}

func TestAutoRateHoldAndProbe(t *testing.T) {
	clk := newRateClock()
	a := newAutoRate(0, 0, clk.now)
	a.ceil, a.rate = 20, 16
	a.cut, a.changed = clk.now(), clk.now()
	drive(a, clk, 1500*time.Millisecond, 50*time.Millisecond, func(ticket) outcome { return clean })
	if !near(a.Rate(), 19, 1e-9) {
		t.Fatalf("after 1.5 s, rate %v, want the hold 19", a.Rate())
	}
	drive(a, clk, 8*time.Second, 50*time.Millisecond, func(ticket) outcome { return clean })
	if !near(a.Rate(), 19, 1e-9) {
		t.Fatalf("probed before %v of hold: %v", probeAfter, a.Rate())
	}
	drive(a, clk, 4*time.Second, 50*time.Millisecond, func(ticket) outcome { return clean })
	if r := a.Rate(); r <= 19 || r > 19*1.1 {
		t.Fatalf("probing: %v", r)
	}
}

func TestAutoRateCap(t *testing.T) {
	clk := newRateClock()
	a := newAutoRate(0, 10, clk.now)
	drive(a, clk, 3*time.Second, 10*time.Millisecond, func(ticket) outcome { return clean })
	if a.Rate() != 10 {
		t.Fatalf("capped at 10, rate %v", a.Rate())
	}
	if a = newAutoRate(50, 10, clk.now); a.Rate() != 10 || a.Learned() != 10 {
		t.Fatalf("initial 50 capped at 10: %v, learned %v", a.Rate(), a.Learned())
	}
}

func TestAutoRateInitialRateHeld(t *testing.T) {
	clk := newRateClock()
	a := newAutoRate(19, 0, clk.now)
	if a.Rate() != 19 || !near(a.Learned(), 19, 1e-9) {
		t.Fatalf("initial 19: %v, learned %v", a.Rate(), a.Learned())
	}
	drive(a, clk, 5*time.Second, 50*time.Millisecond, func(ticket) outcome { return clean })
	if a.Rate() != 19 {
		t.Fatalf("a learned rate is held, not doubled: %v", a.Rate())
	}
}

// TestAutoRateConverges: against token buckets on the fake clock, 8 workers
// from a cold start, and from rates learned right, far too high or far too
// low, settle just below the limit with at most 5% of their requests
// throttled.
func TestAutoRateConverges(t *testing.T) {
	for _, tc := range []struct {
		limit, burst, initial float64
		minRatio              float64 // of the limit, over the 2 min
	}{
		{20, 4, 0, 0.95}, {20, 1, 0, 0.9}, {5, 1, 0, 0.9}, {100, 10, 0, 0.95}, {3, 2, 0, 0.9},
		{20, 4, 19, 0.95},  // the rate learned last time
		{20, 4, 500, 0.95}, // learned from another server
		// Learned far too low (a limit since raised): held for probeAfter,
		// then probed up, doubling the step every second.
		{20, 4, 5, 0.8},
	} {
		t.Run(fmt.Sprintf("%g/s burst %g from %g", tc.limit, tc.burst, tc.initial), func(t *testing.T) {
			clk := newRateClock()
			a := newAutoRate(tc.initial, 0, clk.now)
			if testing.Verbose() && os.Getenv("ADHARVEST_RATE_TRACE") != "" {
				a.trace = t.Logf
			}
			b := &bucket{perSecond: tc.limit, burst: tc.burst, tokens: tc.burst}
			d := 2 * time.Minute
			sent, thr, calls := simulate(a, clk, b, 8, d, 50*time.Millisecond)
			ratio := float64(calls) / d.Seconds() / tc.limit
			t.Logf("%.3f of the limit, rate %.2f/s, learned %.2f/s, %d of %d throttled", ratio, a.Rate(), a.Learned(), thr, sent)
			if l := a.Learned(); l < 0.85*tc.limit || l > 1.15*tc.limit {
				t.Fatalf("learned %v against a limit of %v", l, tc.limit)
			}
			if ratio < tc.minRatio || float64(thr) > 0.05*float64(sent) {
				t.Fatalf("%.3f of the limit, %d of %d throttled", ratio, thr, sent)
			}
		})
	}
}

func TestRateOutcome(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want outcome
	}{
		{nil, clean},
		{&APIError{HTTPStatus: 429, Code: "rate_limit_exceeded"}, throttled},
		{&APIError{HTTPStatus: 200, Code: "rate_limit_exceeded"}, throttled},
		{&APIError{HTTPStatus: 429}, throttled},
		{&BodyError{HTTPStatus: 429, Err: errors.New("not JSON")}, throttled},
		{fmt.Errorf("wrapped: %w", &APIError{HTTPStatus: 429, Code: "rate_limit_exceeded"}), throttled},
		{&APIError{HTTPStatus: 429, Code: "daily_quota_limit_exceeded"}, neutral},
		{&APIError{HTTPStatus: 400, Code: "invalid_params"}, clean},
		{&APIError{HTTPStatus: 500, Code: "internal_error"}, neutral},
		{&APIError{HTTPStatus: 401, Code: "access_token_invalid"}, neutral},
		{&BodyError{HTTPStatus: 200, Err: errors.New("truncated")}, neutral},
		{&NetError{Err: errors.New("reset")}, neutral},
		{context.Canceled, neutral},
	} {
		if got := rateOutcome(tc.err); got != tc.want {
			t.Errorf("rateOutcome(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestParseRate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		rps  float64
		auto bool
		bad  bool
	}{
		{in: "auto", auto: true}, {in: "AUTO", auto: true}, {in: " auto ", auto: true},
		{in: "4", rps: 4}, {in: "0", rps: 0}, {in: "0.5", rps: 0.5}, {in: " 12 ", rps: 12},
		{in: "-1", bad: true}, {in: "x", bad: true}, {in: "", bad: true}, {in: "NaN", bad: true}, {in: "Inf", bad: true},
	} {
		rps, auto, err := ParseRate(tc.in)
		if (err != nil) != tc.bad || rps != tc.rps || auto != tc.auto {
			t.Errorf("ParseRate(%q) = %v, %v, %v", tc.in, rps, auto, err)
		}
	}
	if _, err := NewClient(Config{APIURL: "http://127.0.0.1:1", ClientKey: "k", ClientSecret: "s", RPS: -1}); err == nil {
		t.Error("a negative rate is accepted")
	}
}

// The pacer, on the real clock.

func TestAutoRatePacerSpacing(t *testing.T) {
	a := newAutoRate(50, 0, time.Now)
	var mu sync.Mutex
	var turns []ticket
	var wg sync.WaitGroup
	var n atomic.Int64
	for range 8 {
		wg.Go(func() {
			for n.Add(1) <= 60 {
				tk, err := a.wait(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				turns = append(turns, tk)
				if len(turns) == 30 {
					a.mu.Lock()
					a.set(time.Now(), 20, "test")
					a.mu.Unlock()
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Slice(turns, func(i, j int) bool { return turns[i].turn.Before(turns[j].turn) })
	for i := 1; i < len(turns); i++ {
		// Turns are 1/rate apart at the rate in force when the later one
		// came, less what the pacer may catch up on a late timer (a
		// twentieth of a turn, or catchUp).
		iv := time.Duration(float64(time.Second) / turns[i].rate)
		min := iv - max(iv/20, catchUp)
		if gap := turns[i].turn.Sub(turns[i-1].turn); gap < min {
			t.Fatalf("turns %d and %d %v apart at %v/s", i-1, i, gap, turns[i].rate)
		}
	}
}

func TestAutoRatePacerFollowsChanges(t *testing.T) {
	ctx := context.Background()
	// Down: a waiter asleep for its turn at 100/s goes at the new 4/s, not
	// as booked (rate.Limiter would send it after 10 ms, and the next early).
	a := newAutoRate(100, 0, time.Now)
	if _, err := a.wait(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	time.AfterFunc(2*time.Millisecond, func() {
		a.mu.Lock()
		a.set(time.Now(), 4, "test")
		a.mu.Unlock()
	})
	if _, err := a.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 230*time.Millisecond {
		t.Fatalf("the turn after a cut to 4/s came after %v", el)
	}
	// Up: a waiter asleep for a turn 2 s away at 0.5/s goes at once at 50/s.
	a = newAutoRate(0.5, 0, time.Now)
	if _, err := a.wait(ctx); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	time.AfterFunc(50*time.Millisecond, func() {
		a.mu.Lock()
		a.set(time.Now(), 50, "test")
		a.mu.Unlock()
	})
	if _, err := a.wait(ctx); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > time.Second {
		t.Fatalf("the turn after a rise to 50/s came after %v", el)
	}
	// Cancelled, or a deadline before the turn: no turn taken.
	ctx2, cancel := context.WithTimeout(ctx, 30*time.Millisecond)
	defer cancel()
	a = newAutoRate(1, 0, time.Now)
	if _, err := a.wait(ctx); err != nil {
		t.Fatal(err)
	}
	var nt *errNoTurn
	if _, err := a.wait(ctx2); !errors.As(err, &nt) {
		t.Fatalf("a turn after the deadline: %v", err)
	}
	ctx3, cancel3 := context.WithCancel(ctx)
	time.AfterFunc(20*time.Millisecond, cancel3)
	if _, err := a.wait(ctx3); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled wait: %v", err)
	}
}

// The client, against servers.

// TestAutoRateRetryAfterWaitedOnce: a throttled request waits out its
// Retry-After once, in the retry policy; the cut does not make it wait again.
func TestAutoRateRetryAfterWaitedOnce(t *testing.T) {
	s := &scripted{script: []func(http.ResponseWriter, *http.Request){fail(429, "rate_limit_exceeded", "Retry-After", "1"), ok}}
	c, _ := newTestClient(t, s, testSecret)
	c.auto = newAutoRate(0, 0, time.Now)
	if err := c.CheckAuth(context.Background()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := c.Call(context.Background(), "ad/query", nil, struct{}{})
	el := time.Since(start)
	if err != nil || resp.Attempts != 2 {
		t.Fatalf("%v, %+v", err, resp)
	}
	if el < time.Second || el > 1800*time.Millisecond { // waiting twice would take 2 s
		t.Fatalf("a call throttled once with Retry-After: 1 took %v", el)
	}
	// Cut to half, on the way back to 0.95 of the rate throttled.
	if c.Rate() >= DefaultInitialRate || c.LearnedRate() != holdFrac*DefaultInitialRate || c.Throttled()["ad/query"] != 1 || c.Sent()["ad/query"] != 2 {
		t.Fatalf("rate %v, learned %v, throttled %v, sent %v", c.Rate(), c.LearnedRate(), c.Throttled(), c.Sent())
	}
}

// TestAutoRateNoPhantomRequests: with the automatic rate as with a fixed one,
// a call cancelled while it waits for its turn sends and counts nothing.
func TestAutoRateNoPhantomRequests(t *testing.T) {
	hits := apitest.CountHits(apitest.DataOnly(apitest.OK(), apitest.Token(hostileSecret)))
	var hooked atomic.Int64
	c, _, _ := hostile(t, hits, func(c *Config) {
		c.AutoRate, c.InitialRate = true, 0.5 // one request now, the next in two seconds
		c.OnSend = func(string) error { hooked.Add(1); return nil }
	})
	if _, err := call(c); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		if i == 2 {
			ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
		} else {
			time.AfterFunc(50*time.Millisecond, cancel)
		}
		_, err := c.Call(ctx, "ad/query", nil, struct{}{})
		cancel()
		if err == nil {
			t.Fatal("a call sent before its turn")
		}
	}
	if n := hits.Get("ad/query"); n != 1 || hooked.Load() != 1 || c.Sent()["ad/query"] != 1 {
		t.Fatalf("server saw %d data requests, the hook counted %d, Sent() %v", n, hooked.Load(), c.Sent())
	}
}

// workload is what runWorkload measured.
type workload struct {
	calls   int
	elapsed time.Duration
	done    []time.Duration // when each call completed, from the start
	// rateAt samples Client.Rate every 10 ms from the start.
	rateAt []float64
}

// runWorkload sends n advertiser/query calls through c from workers
// goroutines, as a crawl's workers would.
func runWorkload(t testing.TB, c *Client, n, workers int) workload {
	t.Helper()
	var next atomic.Int64
	var mu sync.Mutex
	w := workload{calls: n}
	start := time.Now()
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				w.rateAt = append(w.rateAt, c.Rate())
			}
		}
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				_, err := c.Call(context.Background(), "advertiser/query", []string{"business_id"}, map[string]any{"search_term": "co"})
				if err != nil {
					t.Errorf("call: %v", err)
					continue
				}
				mu.Lock()
				w.done = append(w.done, time.Since(start))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	w.elapsed = time.Since(start)
	close(stop)
	<-sampled
	sort.Slice(w.done, func(i, j int) bool { return w.done[i] < w.done[j] })
	return w
}

// perWindow counts the calls completed in each window from the start.
func (w workload) perWindow(window time.Duration) []int {
	n := make([]int, int(w.elapsed/window)+1)
	for _, d := range w.done {
		n[int(d/window)]++
	}
	return n
}

func fakeClient(t testing.TB, opts apitest.Options, mod func(*Config)) (*Client, *apitest.Server) {
	t.Helper()
	s := apitest.Start(opts)
	t.Cleanup(s.Close)
	cfg := Config{APIURL: s.URL, ClientKey: apitest.DefaultClientKey, ClientSecret: apitest.DefaultClientSecret, Retry: DefaultRetry, AutoRate: true}
	if mod != nil {
		mod(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("ADHARVEST_RATE_TRACE") != "" && c.auto != nil {
		c.auto.trace = t.Logf
	}
	if err := c.CheckAuth(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c, s
}

// limitedFake is the server of the targets: 20 requests a second with a
// burst of 4, 50 ms per answer.
var limitedFake = apitest.Options{RateLimit: apitest.RateLimit{PerSecond: 20, Burst: 4}, Latency: 50 * time.Millisecond}

// TestAutoRateLearnsServerLimit: from a cold start, 200 calls from 8
// workers against a server that allows 20 a second learn a rate close to
// it, with few requests throttled (target at most 5%; the assertion leaves
// room for a loaded machine), and the client's count of throttled answers
// agrees with the server's. How close to the limit the calls complete is a
// matter of the machine's speed: BenchmarkAutoRate measures it.
func TestAutoRateLearnsServerLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 10 s")
	}
	const limit = 20.0
	c, s := fakeClient(t, limitedFake, nil)
	w := runWorkload(t, c, 200, 8)
	st := s.Stats()
	ratio := float64(w.calls) / w.elapsed.Seconds() / limit
	share := float64(st.Throttled) / float64(st.DataRequests)
	t.Logf("200 calls in %v: %.3f of the limit; %d of %d data requests throttled (%.1f%%); rate %.2f/s, learned %.2f/s; calls a second %v",
		w.elapsed.Round(time.Millisecond), ratio, st.Throttled, st.DataRequests, 100*share, c.Rate(), c.LearnedRate(), w.perWindow(time.Second))
	if share > 0.075 {
		t.Fatalf("%.1f%% of data requests throttled", 100*share)
	}
	if got := c.Throttled()["advertiser/query"]; got != int64(st.Throttled) {
		t.Fatalf("client counted %d throttled, server %d", got, st.Throttled)
	}
	if l := c.LearnedRate(); l < 0.75*limit || l > 1.3*limit {
		t.Fatalf("learned %.2f/s against a limit of %v", l, limit)
	}
}

// TestAutoRateWarmStart: a run that starts at the rate an earlier run learned
// holds it without a cold start's overshoot; one that starts far above the
// limit (another server) comes down to it.
func TestAutoRateWarmStart(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 20 s")
	}
	const limit = 20.0
	for _, tc := range []struct {
		initial  float64
		calls    int
		maxShare float64
	}{
		{19, 150, 0.03},
		{500, 200, 0.15},
	} {
		t.Run(fmt.Sprint(tc.initial), func(t *testing.T) {
			c, s := fakeClient(t, limitedFake, func(c *Config) { c.InitialRate = tc.initial })
			w := runWorkload(t, c, tc.calls, 8)
			st := s.Stats()
			ratio := float64(w.calls) / w.elapsed.Seconds() / limit
			share := float64(st.Throttled) / float64(st.DataRequests)
			t.Logf("from %v/s: %d calls in %v: %.3f of the limit; %d of %d throttled (%.1f%%); rate %.2f/s; calls a second %v",
				tc.initial, tc.calls, w.elapsed.Round(time.Millisecond), ratio, st.Throttled, st.DataRequests, 100*share, c.Rate(), w.perWindow(time.Second))
			if share > tc.maxShare {
				t.Fatalf("%.1f%% throttled", 100*share)
			}
			if r := c.Rate(); r > 1.3*limit {
				t.Fatalf("still at %.2f/s", r)
			}
		})
	}
}

// BenchmarkAutoRate measures the targets of --rps auto, side by side in one
// run: against a server that allows 20 requests a second (50 ms an answer),
// 400 calls from 8 workers from a cold start ("of-limit": target >= 0.90;
// "throttled-%": target <= 5); against one with no limit, how long the rate
// takes to stop holding 8 workers back ("s-to-full") and what it costs a job
// of 12,000 calls over no limiter at all ("extra-s").
func BenchmarkAutoRate(b *testing.B) {
	b.Run("limit=20", func(b *testing.B) {
		const limit = 20.0
		var ratio, share float64
		for b.Loop() {
			c, s := fakeClient(b, limitedFake, nil)
			w := runWorkload(b, c, 400, 8)
			st := s.Stats()
			ratio += float64(w.calls) / w.elapsed.Seconds() / limit
			share += float64(st.Throttled) / float64(st.DataRequests)
		}
		b.ReportMetric(ratio/float64(b.N), "of-limit")
		b.ReportMetric(100*share/float64(b.N), "throttled-%")
	})
	b.Run("unlimited", func(b *testing.B) {
		var toFull, extra float64
		for b.Loop() {
			c0, _ := fakeClient(b, apitest.Options{}, func(c *Config) { c.AutoRate = false })
			base := runWorkload(b, c0, 12000, 8)
			c, _ := fakeClient(b, apitest.Options{}, nil)
			w := runWorkload(b, c, 12000, 8)
			full := float64(base.calls) / base.elapsed.Seconds()
			reached := w.elapsed
			for i, r := range w.rateAt {
				if r >= full {
					reached = time.Duration(i+1) * 10 * time.Millisecond
					break
				}
			}
			toFull += reached.Seconds()
			extra += (w.elapsed - base.elapsed).Seconds()
		}
		b.ReportMetric(toFull/float64(b.N), "s-to-full")
		b.ReportMetric(extra/float64(b.N), "extra-s")
	})
}
