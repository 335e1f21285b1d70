package tiktok

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"
)

// The request rate.
//
// Every data attempt, retries included, waits for its turn at one rate that
// all workers share; token requests do not (they spend no quota and are
// rare). A fixed rate (Config.RPS) is a rate.Limiter. The automatic one
// (Config.AutoRate, --rps auto) is autoRate: a pacer whose turns are always
// 1/rate apart at the rate in force, since one waiter at a time sleeps for
// the next turn and wakes when the rate changes, and a controller that sets
// the rate from the answers:
//
//   - Slow start. From DefaultInitialRate (4/s) the rate doubles every
//     100 ms (or round trip, if longer) while answers come back clean and the
//     rate is what holds the workers back, never past twice what was really
//     sent: against a server without a limit the client is at full speed in
//     a second or two (4/s to 8,000/s is eleven doublings).
//   - Cut. A 429 rate_limit_exceeded to a request sent after the last cut
//     says the limit lies below the rate that request went out at (or below
//     what was really being sent, if that was less). That rate becomes the
//     ceiling, and the rate drops to half of it on leaving slow start (whose
//     last doubling may have overshot unseen while the server's burst
//     absorbed it) and to 0.8 of it afterwards. While the server keeps
//     throttling (cuts less than 2 s or 16 turns apart) its bucket is empty,
//     so of the requests that had to wait for their turn it takes its limit
//     a second of their spacing (1/rate each), however long the workers sat
//     out Retry-After in between: the ceiling is never set above 1.1 times
//     that.
//     A 429 to a request sent before the last cut is counted but changes
//     nothing, so that the 429s of one overshoot cut once.
//   - Hold. After a cut the rate closes 30% of its gap to 0.95 of the ceiling
//     every 100 ms, and holds there, just below where throttling began.
//   - Probe. After 10 s of clean answers at the hold, the rate rises by 1%,
//     then 2%, 4%, ... a second while answers stay clean (up to doubling a
//     second), so that a raised limit, or a ceiling learned too low, is found
//     again. The next 429 cuts, and the rate then holds at the highest level
//     probed that came back clean below the one throttled. A single 429 after
//     5 s at an unchanged rate lowers the ceiling by 2% only: it is more
//     likely jitter bunching two arrivals than a lower limit, and if the
//     limit did come down the cuts that follow go the rest of the way.
//
// The throttled request itself waits out its Retry-After once, in the retry
// policy; the pacer never pauses for it, and the retry then takes the next
// turn at the new rate like any other request. (Pausing every worker instead
// would cost far more than it saves: a limit of 20/s answers Retry-After: 1
// for a turn that is due in 50 ms.)
//
// Against a token bucket of 20/s with a burst of 4 and 50 ms of latency, 400
// calls from 8 workers from a cold start complete at 0.94-0.98 of the limit
// with 1-3% of the requests throttled, on a loaded 2-core machine (see
// TestAutoRateMeetsServerLimit).

// DefaultInitialRate is where the automatic rate starts without a learned
// one: the former fixed default of --rps.
const DefaultInitialRate = 4.0

const (
	autoMinRate    = 0.2 // req/s, the floor of the cuts
	ssStep         = 100 * time.Millisecond
	ssCut          = 0.5
	caCut          = 0.8
	holdFrac       = 0.95
	approachStep   = 100 * time.Millisecond
	approachGain   = 0.3
	probeAfter     = 10 * time.Second
	steadyHold     = 5 * time.Second
	steadyStep     = 0.98
	probeStep      = time.Second
	probeFirst     = 0.01
	probeGrowth    = 2.0
	probeMax       = 1.0
	sendRingSize   = 16
	catchUp        = 2 * time.Millisecond
	congestedGap   = 2 * time.Second
	congestedTurns = 16
	goodMin        = 8
)

// errNoTurn is a turn that would come after the caller's deadline.
type errNoTurn struct{ wait, left time.Duration }

func (e *errNoTurn) Error() string {
	return fmt.Sprintf("the next turn is in %s, after the deadline in %s", e.wait.Round(time.Millisecond), e.left.Round(time.Millisecond))
}

// wait blocks until the caller's turn. One waiter at a time sleeps for the
// next turn, and wakes early when the rate changes, so turns are always
// 1/rate apart at the rate in force (rate.Limiter would let a waiter that
// booked its turn at the old rate go as booked, and the next one early). The
// ticket says when and at what rate the turn came; done takes it back with
// the answer.
func (a *autoRate) wait(ctx context.Context) (ticket, error) {
	queued := false
	select {
	case a.turn <- struct{}{}:
	default:
		queued = true // another request's turn comes first: the rate binds
		select {
		case a.turn <- struct{}{}:
		case <-ctx.Done():
			return ticket{}, ctx.Err()
		}
	}
	defer func() { <-a.turn }()
	for {
		a.mu.Lock()
		now, at := time.Now(), a.now()
		iv := time.Duration(float64(time.Second) / a.rate)
		next := a.last.Add(iv)
		if !now.Before(next) {
			// Keep to the schedule when the timer woke late, so that its
			// lag does not slow the rate: by up to a twentieth of a turn
			// (turns stay 0.95/rate apart), or at high rates by up to
			// catchUp, a timer's lag on a loaded machine.
			a.last = now
			if late := now.Sub(next); late < max(iv/20, catchUp) {
				a.last = next
			}
			tk := ticket{at: at, turn: now, rate: a.rate, sending: a.sending(), paced: queued}
			a.mu.Unlock()
			return tk, ctx.Err()
		}
		wake := a.wake
		a.mu.Unlock()
		d := next.Sub(now)
		if dl, ok := ctx.Deadline(); ok {
			if left := time.Until(dl); left < d {
				return ticket{}, &errNoTurn{wait: d, left: left}
			}
		}
		queued = true
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-wake:
			t.Stop()
		case <-ctx.Done():
			t.Stop()
			return ticket{}, ctx.Err()
		}
	}
}

// ticket is what the pacer knew when it gave a request its turn.
type ticket struct {
	at   time.Time // when the turn came, on autoRate's clock (zero: no turn)
	turn time.Time // the same on the real clock, by which turns are spaced
	rate float64   // the rate in force then
	// sending is the rate requests were sent at since the rate last changed,
	// 0 when too few were sent to say.
	sending float64
	paced   bool // the request had to wait for its turn: the rate binds
}

// outcome is what an answer says about the rate.
type outcome int

const (
	neutral   outcome = iota // no answer, a 5xx, a refused token: says nothing
	clean                    // the server took the request
	throttled                // 429 rate_limit_exceeded
)

// autoRate learns the rate the server allows (see the comment at the top of
// this file).
type autoRate struct {
	turn chan struct{} // held by the one waiter whose turn is next
	mu   sync.Mutex
	now  func() time.Time // the clock of decisions; turns use the real one
	wake chan struct{}    // closed when the rate changes
	last time.Time        // when the last turn came
	max  float64          // the caller's cap; 0 none
	rate float64
	// ceil is the rate at which throttling last began; 0 while in slow start.
	ceil float64

	changed time.Time // when rate last changed
	cut     time.Time // when rate was last cut
	// Since changed: whether a clean answer to a request booked after it came
	// back, and whether a request had to wait for its turn.
	cleanSince, pacedSince bool
	cleanSinceCut          bool

	// congested is when the current run of cuts began (cuts less than
	// congestedGap apart). Of the requests sent since that had to wait for
	// their turn, good counts those the server took, and busy adds up the
	// seconds between their turns (1/rate each): while the server keeps
	// throttling its bucket is empty, so it takes good/busy a second from a
	// client that offers more, whatever the idle time in between.
	congested time.Time
	good      int
	busy      float64

	heldSince time.Time // when rate reached the hold (zero: not there)
	probe     float64   // the next probe's rise
	// levels are the rates probed since the last cut, the hold they
	// started from first: each one below the last came back clean.
	levels []float64

	sends [sendRingSize]time.Time
	nsent int
	// sentSince counts the requests sent since changed.
	sentSince int

	trace func(format string, args ...any) // tests
}

// newAutoRate starts at initial (0: cold, at DefaultInitialRate), never
// above limit (0: none).
func newAutoRate(initial, limit float64, now func() time.Time) *autoRate {
	a := &autoRate{turn: make(chan struct{}, 1), wake: make(chan struct{}), now: now, max: limit, rate: DefaultInitialRate, probe: probeFirst}
	t := now()
	a.changed, a.cut = t, t
	if initial > 0 {
		// A rate learned by an earlier run: hold it, and probe from it.
		a.rate = initial
		a.ceil = initial / holdFrac
		a.heldSince = t
	}
	if a.max > 0 && a.rate > a.max {
		a.rate = a.max
	}
	a.rate = math.Max(a.rate, autoMinRate)
	return a
}

// Rate is the rate in force.
func (a *autoRate) Rate() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.rate
}

// Learned is the rate held below the server's limit, 0 while no limit is
// known.
func (a *autoRate) Learned() float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ceil == 0 {
		return 0
	}
	return a.hold()
}

func (a *autoRate) hold() float64 {
	h := holdFrac * a.ceil
	if a.max > 0 {
		h = math.Min(h, a.max)
	}
	return math.Max(h, autoMinRate)
}

// sent records a request that went to the wire.
func (a *autoRate) sent(tk ticket) {
	if tk.at.IsZero() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sends[a.nsent%sendRingSize] = a.now()
	a.nsent++
	a.sentSince++
	if tk.paced && !tk.at.Before(a.changed) {
		a.pacedSince = true
	}
}

// sending is the rate requests were sent at since the rate last changed
// (over the last few), or 0 when too few were sent to say.
func (a *autoRate) sending() float64 {
	n := min(a.nsent, sendRingSize)
	first, last := time.Time{}, time.Time{}
	k := 0
	for i := 1; i <= n; i++ {
		at := a.sends[(a.nsent-i)%sendRingSize]
		if at.Before(a.changed) {
			break
		}
		if k == 0 {
			last = at
		}
		first = at
		k++
	}
	if k < 4 || !last.After(first) {
		return 0
	}
	return float64(k-1) / last.Sub(first).Seconds()
}

// done hands back the ticket of a sent request with what its answer said.
func (a *autoRate) done(tk ticket, o outcome) {
	if tk.at.IsZero() || o == neutral {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	if o == throttled {
		if tk.at.Before(a.cut) {
			return // sent before the last cut, which answered for it
		}
		a.count(tk, o)
		if gap := max(congestedGap, time.Duration(congestedTurns*float64(time.Second)/a.rate)); a.congested.IsZero() || now.Sub(a.cut) > gap {
			a.congested, a.good, a.busy = now, 0, 0
		}
		// The rate it was sent at, or what was really sent when the
		// workers asked for less, or what the server let through while it
		// kept throttling.
		rs := tk.rate
		if tk.sending > 0 {
			rs = math.Min(rs, 1.1*tk.sending)
		}
		if a.good >= goodMin {
			rs = math.Min(rs, 1.1*float64(a.good)/a.busy)
		}
		f := caCut
		switch {
		case a.ceil == 0:
			f = ssCut
			a.ceil = rs
		case a.cleanLevel(tk.rate) > 0:
			// A probe throttled: hold at the highest level that came back
			// clean below it.
			a.ceil = a.cleanLevel(tk.rate) / holdFrac
		case now.Sub(a.changed) >= steadyHold && rs <= a.hold():
			// One throttle after a long clean hold, not above it: jitter
			// bunching two arrivals, or a limit come down. Lower the
			// ceiling by a step, not to the hold itself; if the limit did
			// come down, the cuts that follow go the rest of the way.
			a.ceil = math.Max(rs, steadyStep*a.ceil)
		default:
			a.ceil = rs
		}
		a.set(now, rs*f, "throttled at %.2f/s", rs)
		a.cut = now
		a.cleanSinceCut = false
		a.heldSince = time.Time{}
		a.probe, a.levels = probeFirst, a.levels[:0]
		return
	}
	a.count(tk, o)
	if tk.at.Before(a.changed) {
		if !tk.at.Before(a.cut) {
			a.cleanSinceCut = true
		}
		return
	}
	a.cleanSince, a.cleanSinceCut = true, true
	a.grow(now)
}

// cleanLevel is the highest rate probed since the last cut below the rate r
// at which a request was throttled, 0 if none.
func (a *autoRate) cleanLevel(r float64) float64 {
	best := 0.0
	for _, l := range a.levels {
		if l < 0.999*r {
			best = max(best, l)
		}
	}
	return best
}

// count adds an answer to the current run of cuts.
func (a *autoRate) count(tk ticket, o outcome) {
	if a.congested.IsZero() || tk.at.Before(a.congested) || !tk.paced {
		return
	}
	a.busy += 1 / tk.rate
	if o == clean {
		a.good++
	}
}

// grow applies what the clean answers since the last change allow.
func (a *autoRate) grow(now time.Time) {
	since := now.Sub(a.changed)
	// Never past twice the rate actually sent since the last change: a rate
	// that does not bind has shown nothing about the server.
	room := a.rate
	if since > 0 {
		room = math.Max(room, 2*float64(a.sentSince)/since.Seconds())
	}
	if a.ceil == 0 {
		if r := math.Min(2*a.rate, room); since >= ssStep && a.cleanSince && a.pacedSince && r > a.rate {
			a.set(now, r, "slow start")
		}
		return
	}
	hold := a.hold()
	if a.rate < 0.99*hold {
		if since >= approachStep && a.cleanSinceCut {
			r := a.rate + approachGain*(hold-a.rate)
			if r >= 0.99*hold {
				r = hold
			}
			a.set(now, r, "approach")
		}
		return
	}
	if a.heldSince.IsZero() {
		a.heldSince = now
	}
	if now.Sub(a.heldSince) >= probeAfter && since >= probeStep && a.cleanSince && a.pacedSince {
		r := math.Min(hold*(1+a.probe), room)
		if r <= hold || (a.max > 0 && hold >= a.max) {
			return
		}
		if len(a.levels) == 0 {
			a.levels = append(a.levels, hold)
		}
		a.levels = append(a.levels, r)
		a.ceil = r / holdFrac
		a.probe = math.Min(probeGrowth*a.probe, probeMax)
		a.set(now, r, "probe")
	}
}

func (a *autoRate) set(now time.Time, r float64, why string, args ...any) {
	r = math.Max(r, autoMinRate)
	if a.max > 0 {
		r = math.Min(r, a.max)
	}
	if a.trace != nil {
		a.trace("%s: %s: %.2f/s -> %.2f/s (ceiling %.2f/s)", now.Format("15:04:05.000"), fmt.Sprintf(why, args...), a.rate, r, a.ceil)
	}
	a.rate = r
	a.changed = now
	a.cleanSince, a.pacedSince = false, false
	a.sentSince = 0
	close(a.wake)
	a.wake = make(chan struct{})
}
