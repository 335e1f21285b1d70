package apitest

import "time"

// The fault profiles the survival tests run a full harvest under. Each returns
// Options to start a Server with; a harvest under any of them must end with
// exactly the rows of a clean run (only Quota stops it early, resumably).

// Flaky is a bad day on the network: about 8% 500s, 5% 429s with Retry-After,
// 2% truncated bodies, 1% slow answers and a few HTML 504 pages.
func Flaky() Options {
	return Options{Quirks: true, Faults: Faults{
		Err500: 0.08, Err429: 0.05, Truncated: 0.02, Slow: 0.01, HTML504: 0.01,
		RetryAfter: time.Second, SlowDelay: 300 * time.Millisecond, Seed: 7,
	}}
}

// Hostile is an API that withdraws what it handed out: tokens die after a
// second although they claim two hours, search_ids expire within half a second,
// and pages come back empty while has_more stays true.
func Hostile() Options {
	return Options{Quirks: true, TokenTTL: time.Second, AdvertisedTTL: 7200, SearchIDTTL: 500 * time.Millisecond, HolesRate: 0.15}
}

// Quota is an API with a daily limit of n data requests.
func Quota(n int) Options {
	return Options{Quirks: true, DailyQuota: n}
}

// Tokens returns every access token the server has issued, so that a test can
// look for them where they must never appear.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.issued))
	out = append(out, s.issued...)
	return out
}

// Realistic is the live service as a harvest meets it: volumes shaped like
// the real library's (RealisticVolume; adsPerYear 0 means 200,000), the data
// forms seen live (LiveForms) and the documentation's contradictions
// (Quirks). Tests add the behaviours they exercise (Lifecycle, CDN,
// RateLimit, ShortPaging, …) to the Options it returns.
func Realistic(adsPerYear float64) Options {
	return Options{Quirks: true, Volume: RealisticVolume(adsPerYear), LiveForms: true}
}
