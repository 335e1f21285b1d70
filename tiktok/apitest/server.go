package apitest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	crand "crypto/rand"
)

// Endpoint names as they appear in Request.Endpoint, Stats.ByEndpoint and
// Options.EndpointQuota.
const (
	EndpointToken      = "oauth/token"
	EndpointAdQuery    = "ad/query"
	EndpointAdDetail   = "ad/detail"
	EndpointAdReport   = "ad/report"
	EndpointAdvertiser = "advertiser/query"
	EndpointContent    = "commercial_content/query"
)

// Paths of the endpoints relative to Server.URL (the server also accepts them
// without the trailing slash).
const (
	TokenPath    = "/v2/oauth/token/"
	DataPathBase = "/v2/research/adlib/" // + endpoint name + "/"
)

// Pseudo error codes recorded in Request.Code and Stats.ByCode for answers
// that carry no error code of their own.
const (
	CodeTruncated = "truncated"  // fault: 200 with a cut JSON body
	CodeHTML504   = "html_504"   // fault: 504 with an HTML body
	CodeCanceled  = "canceled"   // the client gave up during a slow answer
	CodeNotFound  = "not_found"  // unknown path
	CodeBadMethod = "bad_method" // not a POST
)

// Default credentials, used when Options leave them empty.
const (
	DefaultClientKey    = "demo-client-key"
	DefaultClientSecret = "demo-client-secret"
)

var dataEndpoints = []string{EndpointAdQuery, EndpointAdDetail, EndpointAdReport, EndpointAdvertiser, EndpointContent}

// Options configure a fake server. The zero value is a usable, well-behaved
// server with the demo credentials.
type Options struct {
	// ClientKey and ClientSecret default to DefaultClientKey and
	// DefaultClientSecret.
	ClientKey, ClientSecret string
	// Seed selects the universe; 0 means 1.
	Seed int64
	// Density is the mean number of ads each country originates per day (an
	// ad targets 1-4 countries, so a country sees more); 0 means 3. The same
	// density applies to commercial content posts per country and day.
	// Volume, when set, replaces it for ads (and for content when its
	// ContentPerYear is set).
	Density int
	// Now is "today" for the date-range check (max must be strictly before
	// today, UTC), the UTC day of the quota and the date in log ids. nil
	// means time.Now.
	Now func() time.Time
	// Quirks varies the wire encodings per response, deterministically, over
	// the contradictions NOTES.md lists. Without it the documented forms are
	// used (bool has_more, "YYYYMMDD" strings, business_id, paid_for_by,
	// unique_users_seen, videos, targeting_info, country names, a videos list).
	Quirks bool
	// TokenTTL is how long a token is really valid (real clock); 0 = 2h.
	TokenTTL time.Duration
	// AdvertisedTTL is the expires_in sent to clients; 0 = 7200.
	AdvertisedTTL int
	// SearchIDTTL rejects search_ids older than this (real clock) with 400
	// "Search Id <id> is invalid or expired"; 0 = never.
	SearchIDTTL time.Duration
	// HolesRate is the fraction of page slots that are removed items, so
	// pages come back short or empty while has_more stays true. Offsets still
	// advance, so a complete paging returns exactly Universe.Ads. Holes come
	// both singly and in long runs (whole empty pages), and may trail the
	// last item (an empty last page).
	HolesRate float64
	// EndlessTerm is a search_term (case-insensitive) for which ad/query
	// answers has_more:true with an empty page forever, with a new search_id
	// each time.
	EndlessTerm string
	// DailyQuota is the number of authenticated data requests (all
	// endpoints, any outcome) per UTC day before 429
	// daily_quota_limit_exceeded; 0 = unlimited.
	DailyQuota int
	// EndpointQuota is the same per endpoint (keys are the Endpoint*
	// constants, e.g. "ad/detail").
	EndpointQuota map[string]int
	// Faults are the initial faults; see SetFaults.
	Faults Faults

	// Everything below is off by default.

	// Volume replaces Density with realistic per-country volumes, surges
	// and quiet stretches (see VolumeModel and RealisticVolume).
	Volume *VolumeModel
	// LiveForms makes the data take the forms seen on the live service
	// rather than the reference's: photo ads (videos [] and 1 to 14
	// image_urls), image_urls null on video ads, per-country reach as point
	// values ("47K") or "0-1K", targeted audiences like "4.9M-5.9M",
	// status_statement "N/A" on active ads, a paid_for_by that is a 19-digit
	// id other than the business id (a quarter of the advertisers), and 1
	// ad in 100 with last_shown_date but no first_shown_date.
	LiveForms bool
	// Lifecycle makes ads appear, age and be taken down as Now moves.
	Lifecycle *Lifecycle
	// CDN starts a fake media CDN that the media URLs point at.
	CDN *CDN
	// RateLimit is a token bucket over all authenticated data requests;
	// over it the server answers 429 rate_limit_exceeded with Retry-After.
	RateLimit RateLimit
	// Latency delays every data request by this much (real clock) before
	// it is handled, returning early if the client gives up.
	Latency time.Duration
	// RejectNewFields makes ad/query and ad/detail reject the newest fields
	// (NewAdFields) as the service did before it knew them: 400
	// invalid_params "Invalid parameters: fields: ad.title is not a valid
	// field", naming the first field of the request it does not know, and
	// videos items without cover_image_url. RejectFields rejects only the
	// fields listed (any field names); with either, every unknown field is
	// reported in that live form.
	RejectNewFields bool
	RejectFields    []string
	// ReportMaxDays makes ad/report refuse ranges longer than this many
	// days (400 invalid_params); 0 = no limit.
	ReportMaxDays int
	// ReportFailures make some or all ad/report filter sets answer empty or
	// 500, persistently.
	ReportFailures ReportFailures
	// SearchIDsExpireAtReset rejects a search_id once the UTC day of Now is
	// no longer the day its search began (the quota reset), with 400
	// "Search Id … is invalid or expired".
	SearchIDsExpireAtReset bool
	// ShortPaging makes ad/query end large result sets early.
	ShortPaging *ShortPaging
}

// RateLimit is a token bucket: PerSecond tokens a second, at most Burst
// (0 means 1) saved up. Every authenticated data request takes a token; one
// that finds none is answered 429 rate_limit_exceeded with Retry-After (the
// seconds until a token is due, rounded up, at least 1), is counted in
// Stats.ByCode and Stats.Throttled, and is not charged to the daily quota.
// It runs on the real clock and decides when the request arrives (before
// Options.Latency), at the arrival time Request.Time records and in the
// order of Requests, so it is exact and replayable: over any interval of T seconds it admits
// at most Burst + T×PerSecond requests. With Burst 1 a client pacing at
// exactly PerSecond is throttled whenever jitter brings two arrivals closer
// than 1/PerSecond, and one sending faster gets less than PerSecond through
// (the bucket cannot save the fraction of a token a refused request leaves);
// a Burst of a few tolerates jitter. PerSecond 0 means no limit.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// Faults are per-data-request probabilities of misbehaviour. They never
// apply to the token endpoint. Slow is drawn independently and delays the
// answer; then at most one of Err500, Err429, HTML504 and Truncated applies,
// tried in that order.
type Faults struct {
	// Err500 answers 500 internal_error in the JSON envelope.
	Err500 float64
	// Err429 answers 429 rate_limit_exceeded with a Retry-After header.
	Err429 float64
	// Truncated answers 200 and writes only the first half of a valid JSON
	// body. Half of the time Content-Length matches the cut body (the client
	// sees invalid JSON); otherwise it announces the full length and the
	// connection is closed early (the client sees an unexpected EOF).
	Truncated float64
	// Slow sleeps SlowDelay before answering normally, returning early when
	// the request context is cancelled.
	Slow float64
	// HTML504 answers 504 with a text/html body.
	HTML504 float64
	// RetryAfter is sent on rate_limit_exceeded in whole seconds, rounded up,
	// at least 1; 0 = 1s.
	RetryAfter time.Duration
	// SlowDelay is the Slow delay; 0 = 2s.
	SlowDelay time.Duration
	// Seed seeds the fault dice.
	Seed int64
}

// Request is the record of one HTTP request to the server.
type Request struct {
	// Endpoint is one of the Endpoint* constants, or the path for an unknown one.
	Endpoint string
	// Body is the request body; for the token endpoint client_secret is
	// replaced by "REDACTED". Headers are not kept.
	Body []byte
	// Fields is the raw ?fields= parameter.
	Fields string
	// Status is the HTTP status sent (0 when the client went away first).
	Status int
	// Code is error.code ("ok" on success), the OAuth "error" of the token
	// endpoint, or one of the Code* pseudo codes.
	Code string
	// SearchID is the search_id the request sent; NextSearchID the one the
	// answer carried.
	SearchID, NextSearchID string
	// Fault is the injected fault: "", "500", "429", "truncated", "html504",
	// "slow" or "slow+<other>"; or the server behaviour that shaped the
	// answer: "report_500" or "report_empty" (Options.ReportFailures).
	Fault string
	LogID string
	// Time is the arrival time (real clock).
	Time time.Time
}

// Stats summarise the requests so far.
type Stats struct {
	ByEndpoint map[string]int
	ByCode     map[string]int
	// Tokens is the number of tokens issued.
	Tokens int
	// DataRequests counts every request to a data endpoint, authenticated or not.
	DataRequests int
	// Throttled counts the answers 429 rate_limit_exceeded, from
	// Options.RateLimit and from the Err429 fault alike.
	Throttled int
}

// Server is a running fake API.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port) when started with Start,
	// "" for a server made with New.
	URL string

	opts Options
	u    *Universe
	ts   *httptest.Server
	h    http.Handler

	done      chan struct{}
	closeOnce sync.Once

	mu       sync.Mutex
	tokens   map[string]time.Time
	issued   []string // every token ever issued, for leak tests
	requests []Request
	stats    Stats
	quotaDay string
	quotaAll int
	quotaEP  map[string]int

	faultMu  sync.Mutex
	faults   Faults
	faultRNG *rand.Rand

	seq atomic.Uint64

	cacheMu sync.Mutex
	cache   map[uint64]*resultSet

	// The rate-limit bucket, guarded by mu so that a request's arrival
	// time, its place in requests and its bucket decision are one step.
	bucketTokens float64
	bucketLast   time.Time

	cdn *cdnServer
}

// New builds a server without listening; serve Handler yourself.
func New(opts Options) *Server {
	if opts.ClientKey == "" {
		opts.ClientKey = DefaultClientKey
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Density <= 0 {
		opts.Density = 3
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 2 * time.Hour
	}
	if opts.AdvertisedTTL <= 0 {
		opts.AdvertisedTTL = 7200
	}
	uo := UniverseOptions{Seed: opts.Seed, Density: opts.Density, Volume: opts.Volume, LiveForms: opts.LiveForms,
		Lifecycle: opts.Lifecycle, ShortPaging: opts.ShortPaging, CDN: opts.CDN}
	var cdn *cdnServer
	var sp *Server
	if opts.CDN != nil {
		// The CDN listens even for a server made with New: the universe's
		// media URLs have to name it before the first answer.
		cdn = &cdnServer{}
		cdn.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { sp.serveCDN(w, r) }))
		uo.CDNBase = cdn.ts.URL
	}
	s := &Server{
		opts:    opts,
		u:       NewUniverseWith(uo),
		cdn:     cdn,
		done:    make(chan struct{}),
		tokens:  map[string]time.Time{},
		quotaEP: map[string]int{},
		cache:   map[uint64]*resultSet{},
		stats:   Stats{ByEndpoint: map[string]int{}, ByCode: map[string]int{}},
	}
	sp = s
	s.bucketTokens = float64(max(1, opts.RateLimit.Burst))
	s.SetFaults(opts.Faults)
	s.h = http.HandlerFunc(s.serveHTTP)
	return s
}

// Start builds a server and serves it on a loopback port.
func Start(opts Options) *Server {
	s := New(opts)
	s.ts = httptest.NewServer(s.h)
	s.URL = s.ts.URL
	return s
}

// Close stops the server; slow answers in flight are cut short.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
	if s.ts != nil {
		s.ts.Close()
	}
	if s.cdn != nil {
		s.cdn.ts.Close()
	}
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.h }

// Universe returns the data the server serves.
func (s *Server) Universe() *Universe { return s.u }

// Options returns the options in effect, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// SetFaults switches the faults at run time and reseeds the fault dice.
func (s *Server) SetFaults(f Faults) {
	if f.RetryAfter <= 0 {
		f.RetryAfter = time.Second
	}
	if f.SlowDelay <= 0 {
		f.SlowDelay = 2 * time.Second
	}
	s.faultMu.Lock()
	s.faults = f
	s.faultRNG = rand.New(rand.NewPCG(uint64(f.Seed), 0x243f6a8885a308d3))
	s.faultMu.Unlock()
}

// IssueToken mints a valid token without a request to the token endpoint
// (not counted in Stats), for tests that talk to the data endpoints directly.
func (s *Server) IssueToken() string {
	b := make([]byte, 24)
	_, _ = crand.Read(b)
	tok := "clt." + fmt.Sprintf("%x", b)
	s.mu.Lock()
	s.tokens[tok] = time.Now().Add(s.opts.TokenTTL)
	s.issued = append(s.issued, tok)
	s.mu.Unlock()
	return tok
}

// ExpireTokens invalidates every token issued so far, as if they had run out.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	clear(s.tokens)
	s.mu.Unlock()
}

// ResetQuota forgets the quota used today.
func (s *Server) ResetQuota() {
	s.mu.Lock()
	s.quotaAll = 0
	clear(s.quotaEP)
	s.mu.Unlock()
}

// QuotaUsed returns the data requests charged against today's quota, in total
// and per endpoint.
func (s *Server) QuotaUsed() (total int, byEndpoint map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.quotaDay != s.opts.Now().UTC().Format("20060102") {
		return 0, map[string]int{}
	}
	m := make(map[string]int, len(s.quotaEP))
	for k, v := range s.quotaEP {
		m[k] = v
	}
	return s.quotaAll, m
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Tokens: s.stats.Tokens, DataRequests: s.stats.DataRequests, Throttled: s.stats.Throttled,
		ByEndpoint: make(map[string]int, len(s.stats.ByEndpoint)), ByCode: make(map[string]int, len(s.stats.ByCode))}
	for k, v := range s.stats.ByEndpoint {
		st.ByEndpoint[k] = v
	}
	for k, v := range s.stats.ByCode {
		st.ByCode[k] = v
	}
	return st
}

// Requests returns every request so far in arrival order. Requests still in
// flight have Status 0 and an empty Code.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	copy(out, s.requests)
	return out
}

func (s *Server) begin(rq *Request) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	rq.Time = time.Now()
	rq.LogID = s.logID()
	s.requests = append(s.requests, *rq)
	return len(s.requests) - 1
}

func (s *Server) finish(i int, rq Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests[i] = rq
	s.stats.ByEndpoint[rq.Endpoint]++
	s.stats.ByCode[rq.Code]++
	if rq.Code == "rate_limit_exceeded" {
		s.stats.Throttled++
	}
	switch {
	case rq.Endpoint == EndpointToken:
		if rq.Status == http.StatusOK {
			s.stats.Tokens++
		}
	case isDataEndpoint(rq.Endpoint):
		s.stats.DataRequests++
	}
}

func isDataEndpoint(ep string) bool {
	for _, e := range dataEndpoints {
		if e == ep {
			return true
		}
	}
	return false
}

func (s *Server) logID() string {
	n := s.seq.Add(1)
	return s.opts.Now().UTC().Format("20060102150405") + fmt.Sprintf("%020X", mix64(n^uint64(s.opts.Seed)))
}

// ---- routing -------------------------------------------------------------

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimSuffix(r.URL.Path, "/")
	if p+"/" == TokenPath {
		s.serveToken(w, r)
		return
	}
	if ep, ok := strings.CutPrefix(p, strings.TrimSuffix(DataPathBase, "/")+"/"); ok && isDataEndpoint(ep) {
		s.serveData(ep, w, r)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rq := Request{Endpoint: r.URL.Path, Body: body}
	i := s.begin(&rq)
	rq.Status, rq.Code = http.StatusNotFound, CodeNotFound
	writeEnvelope(w, http.StatusNotFound, map[string]any{}, CodeNotFound, "unknown endpoint "+r.URL.Path, rq.LogID, -1)
	s.finish(i, rq)
}

// ---- token ---------------------------------------------------------------

func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rq := Request{Endpoint: EndpointToken}
	form, perr := url.ParseQuery(string(body))
	if perr == nil {
		red := url.Values{}
		for k, v := range form {
			if k == "client_secret" {
				v = []string{"REDACTED"}
			}
			red[k] = v
		}
		rq.Body = []byte(red.Encode())
	} else {
		rq.Body = []byte("<unparseable form>")
	}
	i := s.begin(&rq)
	fail := func(status int, code, desc string) {
		rq.Status, rq.Code = status, code
		writeJSONBody(w, status, map[string]any{"error": code, "error_description": desc, "log_id": rq.LogID}, -1)
		s.finish(i, rq)
	}
	switch {
	case r.Method != http.MethodPost:
		fail(http.StatusMethodNotAllowed, "invalid_request", "the token endpoint only accepts POST")
	case perr != nil:
		fail(http.StatusBadRequest, "invalid_request", "the request body is not a valid application/x-www-form-urlencoded form")
	case form.Get("grant_type") == "":
		fail(http.StatusBadRequest, "invalid_request", "grant_type is required")
	case form.Get("grant_type") != "client_credentials":
		fail(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be client_credentials")
	case form.Get("client_key") != s.opts.ClientKey || form.Get("client_secret") != s.opts.ClientSecret:
		fail(http.StatusUnauthorized, "invalid_client", "Client key or secret is incorrect.")
	default:
		tok := s.IssueToken()
		rq.Status, rq.Code = http.StatusOK, "ok"
		writeJSONBody(w, http.StatusOK, map[string]any{
			"access_token": tok, "expires_in": s.opts.AdvertisedTTL, "token_type": "Bearer",
		}, -1)
		s.finish(i, rq)
	}
}

// authorizedLocked checks the Bearer token at now; s.mu is held.
func (s *Server) authorizedLocked(r *http.Request, now time.Time) (ok bool, why string) {
	h := strings.TrimSpace(r.Header.Get("Authorization"))
	if h == "" {
		return false, "The access token is missing from the request."
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return false, "The Authorization header must use the Bearer scheme."
	}
	tok = strings.TrimSpace(tok)
	exp, known := s.tokens[tok]
	switch {
	case !known:
		return false, "The access token is invalid or not found in the request."
	case !now.Before(exp):
		return false, "The access token has expired."
	}
	return true, ""
}

func (s *Server) chargeQuota(ep string) bool {
	day := s.opts.Now().UTC().Format("20060102")
	s.mu.Lock()
	defer s.mu.Unlock()
	if day != s.quotaDay {
		s.quotaDay, s.quotaAll = day, 0
		clear(s.quotaEP)
	}
	s.quotaAll++
	s.quotaEP[ep]++
	if s.opts.DailyQuota > 0 && s.quotaAll > s.opts.DailyQuota {
		return false
	}
	if q := s.opts.EndpointQuota[ep]; q > 0 && s.quotaEP[ep] > q {
		return false
	}
	return true
}

// ---- faults --------------------------------------------------------------

type faultPlan struct {
	slow       bool
	kind       string // "", "500", "429", "html504", "truncated"
	truncMode  int
	delay      time.Duration
	retryAfter time.Duration
}

func (s *Server) rollFaults() faultPlan {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	f, r := s.faults, s.faultRNG
	p := faultPlan{delay: f.SlowDelay, retryAfter: f.RetryAfter}
	p.slow = f.Slow > 0 && r.Float64() < f.Slow
	switch {
	case f.Err500 > 0 && r.Float64() < f.Err500:
		p.kind = "500"
	case f.Err429 > 0 && r.Float64() < f.Err429:
		p.kind = "429"
	case f.HTML504 > 0 && r.Float64() < f.HTML504:
		p.kind = "html504"
	case f.Truncated > 0 && r.Float64() < f.Truncated:
		p.kind = "truncated"
		p.truncMode = r.IntN(2)
	}
	return p
}

const html504 = `<html>
<head><title>504 Gateway Time-out</title></head>
<body>
<center><h1>504 Gateway Time-out</h1></center>
<hr><center>Tengine</center>
</body>
</html>
`

// ---- data endpoints ------------------------------------------------------

// reply is a data endpoint's answer before it is written.
type reply struct {
	status  int
	code    string
	msg     string
	data    any
	nextSID string
	reqSID  string
	// fault is recorded in Request.Fault (server behaviours such as
	// Options.ReportFailures).
	fault string
}

func okReply(data any) reply { return reply{status: http.StatusOK, code: "ok", data: data} }

func badParams(format string, args ...any) reply {
	return reply{status: http.StatusBadRequest, code: "invalid_params", msg: fmt.Sprintf(format, args...)}
}

// arrival is what is decided about a data request the moment it arrives.
type arrival struct {
	authOK   bool
	why      string
	admitted bool          // by the rate limit
	wait     time.Duration // until a token is due, when not admitted
}

// beginData records a data request like begin and, in the same step,
// checks its token and takes a rate-limit token: so the bucket sees
// requests exactly in the order and at the times Requests reports.
func (s *Server) beginData(rq *Request, r *http.Request) (int, arrival) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rq.Time = time.Now()
	rq.LogID = s.logID()
	s.requests = append(s.requests, *rq)
	var a arrival
	if r.Method == http.MethodPost {
		a.authOK, a.why = s.authorizedLocked(r, rq.Time)
		if a.authOK {
			a.admitted, a.wait = s.takeTokenLocked(rq.Time)
		}
	}
	return len(s.requests) - 1, a
}

func (s *Server) serveData(ep string, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 4<<20))
	fields := strings.Join(r.URL.Query()["fields"], ",")
	rq := Request{Endpoint: ep, Body: body, Fields: fields}
	i, arr := s.beginData(&rq, r)
	send := func(rep reply, trunc int) {
		rq.Status, rq.Code, rq.NextSearchID = rep.status, rep.code, rep.nextSID
		if rep.fault != "" {
			if rq.Fault != "" {
				rq.Fault += "+"
			}
			rq.Fault += rep.fault
		}
		if rq.SearchID == "" {
			rq.SearchID = rep.reqSID
		}
		data := rep.data
		if data == nil {
			data = map[string]any{}
		}
		if trunc >= 0 {
			rq.Code = CodeTruncated
		}
		writeEnvelope(w, rep.status, data, rep.code, rep.msg, rq.LogID, trunc)
		s.finish(i, rq)
	}
	if r.Method != http.MethodPost {
		send(reply{status: http.StatusMethodNotAllowed, code: CodeBadMethod, msg: "only POST is supported"}, -1)
		return
	}
	if s.opts.Latency > 0 && !s.sleep(r, s.opts.Latency) {
		rq.Code = CodeCanceled
		s.finish(i, rq)
		return
	}
	if !arr.authOK {
		send(reply{status: http.StatusUnauthorized, code: "access_token_invalid", msg: arr.why}, -1)
		return
	}
	if !arr.admitted {
		secs := int((arr.wait + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		send(reply{status: http.StatusTooManyRequests, code: "rate_limit_exceeded", msg: "The API rate limit was exceeded. Please slow down."}, -1)
		return
	}
	if !s.chargeQuota(ep) {
		send(reply{status: http.StatusTooManyRequests, code: "daily_quota_limit_exceeded",
			msg: "You have exceeded the daily quota of requests for this API. Please try again tomorrow."}, -1)
		return
	}
	plan := s.rollFaults()
	if plan.slow {
		rq.Fault = "slow"
		t := time.NewTimer(plan.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			rq.Code = CodeCanceled
			s.finish(i, rq)
			return
		case <-s.done:
			t.Stop()
			rq.Code = CodeCanceled
			s.finish(i, rq)
			return
		}
	}
	if plan.kind != "" {
		if rq.Fault != "" {
			rq.Fault += "+"
		}
		rq.Fault += plan.kind
	}
	switch plan.kind {
	case "500":
		send(reply{status: http.StatusInternalServerError, code: "internal_error", msg: "Something went wrong. Please try again later."}, -1)
		return
	case "429":
		secs := int((plan.retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
		send(reply{status: http.StatusTooManyRequests, code: "rate_limit_exceeded", msg: "The API rate limit was exceeded. Please slow down."}, -1)
		return
	case "html504":
		rq.Status, rq.Code = http.StatusGatewayTimeout, CodeHTML504
		w.Header().Set("Content-Type", "text/html")
		w.Header().Set("Content-Length", strconv.Itoa(len(html504)))
		w.WriteHeader(http.StatusGatewayTimeout)
		_, _ = io.WriteString(w, html504)
		s.finish(i, rq)
		return
	}
	var rep reply
	switch ep {
	case EndpointAdQuery:
		rep = s.adQuery(fields, body)
	case EndpointAdDetail:
		rep = s.adDetail(fields, body)
	case EndpointAdReport:
		rep = s.adReport(fields, body)
	case EndpointAdvertiser:
		rep = s.advertiserQuery(fields, body)
	case EndpointContent:
		rep = s.contentQuery(fields, body)
	}
	trunc := -1
	if plan.kind == "truncated" {
		trunc = plan.truncMode
	}
	send(rep, trunc)
}

// sleep waits d, returning false early when the client gives up or the
// server closes.
func (s *Server) sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.done:
	}
	return false
}

// takeTokenLocked takes a token from the rate-limit bucket at arrival time
// at, or says how long until one is due; s.mu is held.
func (s *Server) takeTokenLocked(at time.Time) (bool, time.Duration) {
	rl := s.opts.RateLimit
	if rl.PerSecond <= 0 {
		return true, 0
	}
	burst := float64(max(1, rl.Burst))
	if !s.bucketLast.IsZero() && at.After(s.bucketLast) {
		s.bucketTokens = min(burst, s.bucketTokens+at.Sub(s.bucketLast).Seconds()*rl.PerSecond)
	}
	if at.After(s.bucketLast) {
		s.bucketLast = at
	}
	if s.bucketTokens >= 1 {
		s.bucketTokens--
		return true, 0
	}
	return false, time.Duration((1 - s.bucketTokens) / rl.PerSecond * float64(time.Second))
}

// writeEnvelope writes {"data":…,"error":{…}}. trunc < 0 writes it whole;
// 0 writes the first half with a matching Content-Length; 1 announces the
// full length and stops after the first half.
func writeEnvelope(w http.ResponseWriter, status int, data any, code, msg, logID string, trunc int) {
	if code == "ok" {
		msg = ""
	}
	env := struct {
		Data  any `json:"data"`
		Error struct {
			Code           string `json:"code"`
			Message        string `json:"message"`
			LogID          string `json:"log_id"`
			HTTPStatusCode int    `json:"http_status_code"`
		} `json:"error"`
	}{Data: data}
	env.Error.Code, env.Error.Message, env.Error.LogID, env.Error.HTTPStatusCode = code, msg, logID, status
	w.Header().Set("X-Tt-Logid", logID)
	writeJSONBody(w, status, env, trunc)
}

func writeJSONBody(w http.ResponseWriter, status int, v any, trunc int) {
	b, err := json.Marshal(v)
	if err != nil {
		panic("apitest: cannot encode response: " + err.Error())
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if trunc < 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(status)
		_, _ = w.Write(b)
		return
	}
	cut := max(1, len(b)/2)
	if trunc == 0 {
		w.Header().Set("Content-Length", strconv.Itoa(cut))
	} else {
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	}
	w.WriteHeader(status)
	_, _ = w.Write(b[:cut])
}

// PeakRequests is the largest number of data requests (any endpoint, any
// outcome, throttled ones included) that arrived within any window of the
// given length: how hard a client pushed, to compare with Options.RateLimit.
func (s *Server) PeakRequests(window time.Duration) int {
	var at []time.Time
	for _, r := range s.Requests() {
		if isDataEndpoint(r.Endpoint) {
			at = append(at, r.Time)
		}
	}
	peak, lo := 0, 0
	for hi := range at {
		for at[hi].Sub(at[lo]) >= window {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}
