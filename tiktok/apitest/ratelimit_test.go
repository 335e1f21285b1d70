package apitest

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRateLimitBurst(t *testing.T) {
	s := start(t, Options{RateLimit: RateLimit{PerSecond: 0.5, Burst: 3}})
	c := newClient(t, s)
	body := map[string]any{"search_term": "co"}
	for i := 0; i < 6; i++ {
		r := c.call(EndpointAdvertiser, "business_id", body)
		switch {
		case i < 3 && r.status != 200:
			t.Fatalf("request %d within the burst: %d %q", i, r.status, r.code)
		case i >= 3 && (r.status != 429 || r.code != "rate_limit_exceeded" || r.header.Get("Retry-After") != "2"):
			// One token every 2 s: the next is due in just under 2 s.
			t.Fatalf("request %d: %d %q Retry-After %q", i, r.status, r.code, r.header.Get("Retry-After"))
		}
	}
	st := s.Stats()
	if st.ByCode["rate_limit_exceeded"] != 3 || st.Throttled != 3 || st.ByCode["ok"] != 4 || st.DataRequests != 6 {
		t.Fatalf("stats %+v", st)
	}
	// Throttled requests are not charged to the quota.
	if total, _ := s.QuotaUsed(); total != 3 {
		t.Fatalf("quota used %d", total)
	}
	// Unauthenticated requests take no token.
	if r := c.raw(context.Background(), EndpointAdvertiser, "business_id", `{"search_term":"co"}`, ""); r.status != 401 {
		t.Fatal(r.status)
	}
	if m, denied := replay(s.Requests(), 0.5, 3); m != 0 || denied != 3 {
		t.Fatalf("replay: %d mismatches, %d denied", m, denied)
	}
	// The fault's 429 counts as throttled too.
	s.SetFaults(Faults{Err429: 1})
	time.Sleep(2100 * time.Millisecond)
	if r := c.call(EndpointAdvertiser, "business_id", body); r.status != 429 || r.code != "rate_limit_exceeded" {
		t.Fatal(r.status)
	}
	if st := s.Stats(); st.Throttled != 4 {
		t.Fatalf("throttled %d", st.Throttled)
	}
}

// paced sends n requests from workers goroutines, one every 1/perSecond
// seconds overall, and returns the counts of 200s and 429s.
func paced(t *testing.T, c *client, perSecond float64, n, workers int) (ok, throttled int) {
	t.Helper()
	var okN, thr atomic.Int64
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range jobs {
				r := c.call(EndpointAdvertiser, "business_id", map[string]any{"search_term": "co"})
				switch r.status {
				case 200:
					okN.Add(1)
				case 429:
					thr.Add(1)
					if ra, _ := strconv.Atoi(r.header.Get("Retry-After")); ra != 1 {
						t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
					}
				default:
					t.Errorf("status %d", r.status)
				}
			}
		}()
	}
	tick := time.NewTicker(time.Duration(float64(time.Second) / perSecond))
	for i := 0; i < n; i++ {
		jobs <- i
		<-tick.C
	}
	tick.Stop()
	close(jobs)
	wg.Wait()
	return int(okN.Load()), int(thr.Load())
}

// replay runs a reference token bucket over the arrivals the server
// recorded and counts the decisions that differ from the server's.
func replay(reqs []Request, perSecond float64, burst int) (mismatches, denied int) {
	tokens, last := float64(burst), time.Time{}
	for _, r := range reqs {
		if !isDataEndpoint(r.Endpoint) || r.Code == "access_token_invalid" {
			continue
		}
		if !last.IsZero() {
			tokens = min(float64(burst), tokens+r.Time.Sub(last).Seconds()*perSecond)
		}
		last = r.Time
		admit := tokens >= 1
		if admit {
			tokens--
		} else {
			denied++
		}
		if admit == (r.Code == "rate_limit_exceeded") {
			mismatches++
		}
	}
	return mismatches, denied
}

// TestRateLimitAccuracy: at 20 requests a second with 50 ms latency, a
// client that keeps just under the limit is never throttled, and one above
// it is throttled by exactly its excess.
func TestRateLimitAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	t.Run("under", func(t *testing.T) {
		s := start(t, Options{RateLimit: RateLimit{PerSecond: 20, Burst: 2}, Latency: 50 * time.Millisecond})
		c := newClient(t, s)
		t0 := time.Now()
		ok, thr := paced(t, c, 18, 54, 4)
		// Only client-side bunching (a loaded machine) can get a request
		// throttled, and then the bucket must say so too.
		if m, denied := replay(s.Requests(), 20, 2); m != 0 || denied != thr || thr > 2 || ok+thr != 54 {
			t.Fatalf("%d ok, %d throttled at 18/s; replay: %d mismatches", ok, thr, m)
		}
		if el := time.Since(t0); el < 2900*time.Millisecond {
			t.Fatalf("took %v", el)
		}
		if p := s.PeakRequests(time.Second); p < 17 || p > 22 {
			t.Fatalf("peak %d a second", p)
		}
	})
	t.Run("over", func(t *testing.T) {
		s := start(t, Options{RateLimit: RateLimit{PerSecond: 20, Burst: 5}, Latency: 50 * time.Millisecond})
		c := newClient(t, s)
		ok, thr := paced(t, c, 40, 120, 6)
		// The bucket admits its burst plus 20 a second of the span over which
		// the requests arrived (by the server's clock, which is the one it
		// uses), and throttles the rest.
		var first, last time.Time
		for _, r := range s.Requests() {
			if r.Endpoint == EndpointAdvertiser {
				if first.IsZero() {
					first = r.Time
				}
				last = r.Time
			}
		}
		want := 5 + int(20*last.Sub(first).Seconds())
		if ok < want-1 || ok > want+1 {
			t.Fatalf("%d admitted over %v, want %d; %d throttled", ok, last.Sub(first), want, thr)
		}
		if m, denied := replay(s.Requests(), 20, 5); m != 0 || denied != thr {
			t.Fatalf("replay: %d mismatches, %d denied", m, denied)
		}
		st := s.Stats()
		if st.Throttled != thr || st.ByCode["rate_limit_exceeded"] != thr || ok+thr != 120 {
			t.Fatalf("stats %+v, %d throttled", st, thr)
		}
		t.Logf("40/s over %v: %d admitted, %d throttled", last.Sub(first), ok, thr)
	})
	t.Run("burst 1 never exceeds the rate", func(t *testing.T) {
		s := start(t, Options{RateLimit: RateLimit{PerSecond: 20, Burst: 1}, Latency: 50 * time.Millisecond})
		c := newClient(t, s)
		t0 := time.Now()
		ok, thr := paced(t, c, 40, 80, 6)
		if el := time.Since(t0).Seconds(); ok > int(20*el)+1 {
			t.Fatalf("%d admitted in %.2fs", ok, el)
		}
		if m, denied := replay(s.Requests(), 20, 1); m != 0 || denied != thr {
			t.Fatalf("replay: %d mismatches, %d denied", m, denied)
		}
		var at []time.Time
		for _, r := range s.Requests() {
			if r.Code == "ok" && r.Endpoint == EndpointAdvertiser {
				at = append(at, r.Time)
			}
		}
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap < 50*time.Millisecond-time.Millisecond {
				t.Fatalf("two admitted %v apart", gap)
			}
		}
	})
}

func TestLatency(t *testing.T) {
	s := start(t, Options{Latency: 200 * time.Millisecond})
	c := newClient(t, s)
	t0 := time.Now()
	c.mustOK(EndpointAdvertiser, "business_id", map[string]any{"search_term": "co"})
	if el := time.Since(t0); el < 200*time.Millisecond {
		t.Fatalf("answered after %v", el)
	}
	// The token endpoint is not delayed.
	t0 = time.Now()
	newClient(t, s)
	if el := time.Since(t0); el > 150*time.Millisecond {
		t.Fatalf("token took %v", el)
	}
	// A client that gives up during the latency is recorded as such.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if r := c.raw(ctx, EndpointAdvertiser, "business_id", `{"search_term":"co"}`, "Bearer "+c.tok); r.err == nil {
		t.Fatal("no error")
	}
	deadline := time.Now().Add(2 * time.Second)
	for s.Stats().ByCode[CodeCanceled] != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v", s.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
