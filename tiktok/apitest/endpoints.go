package apitest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Field lists the endpoints accept in ?fields= (the dotted forms of the reference).
var (
	adQueryFields = []string{
		"ad.id", "ad.first_shown_date", "ad.last_shown_date", "ad.status", "ad.status_statement",
		"ad.videos", "ad.image_urls", "ad.reach",
		"advertiser.business_id", "advertiser.business_name", "advertiser.paid_for_by",
	}
	adDetailFields = append(slices.Clone(adQueryFields),
		"advertiser.follower_count", "advertiser.avatar_url", "advertiser.profile_url", "ad_group.targeting_info")
	adReportFields   = []string{"count_time_series_by_country"}
	advertiserFields = []string{"business_name", "business_id", "country_code"}
	contentFields    = []string{"id", "create_timestamp", "create_date", "label", "brand_names", "creator", "videos"}
)

const (
	maxTermRunes   = 50
	maxPage        = 50
	defaultPage    = 10
	epByteAdQuery  = 1
	epByteContent  = 2
	tagVariant     = 101
	tagHoles       = 102
	sidVersion     = 1
	sidLen         = 30
	resultCacheMax = 64
)

func parseFields(raw string, allowed []string) (map[string]bool, string) {
	set := map[string]bool{}
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(allowed, f) {
			return nil, fmt.Sprintf("Invalid fields: %q is not a supported field of this endpoint; supported fields are %s", f, strings.Join(allowed, ","))
		}
		set[f] = true
	}
	if len(set) == 0 {
		return nil, "Invalid fields: the fields query parameter is required; supported fields are " + strings.Join(allowed, ",")
	}
	return set, ""
}

// liveFieldErrors is whether unknown fields are reported in the live
// service's form (Options.RejectNewFields, Options.RejectFields).
func (s *Server) liveFieldErrors() bool {
	return s.opts.RejectNewFields || len(s.opts.RejectFields) > 0
}

// parseFieldsFor is parseFields with the server's field options: the newest
// fields allowed unless rejected, and, in live mode, 400 "Invalid parameters:
// fields: X is not a valid field" for the first field of the request that is
// unknown or rejected.
func (s *Server) parseFieldsFor(raw string, allowed []string) (map[string]bool, string) {
	if !s.liveFieldErrors() {
		return parseFields(raw, allowed)
	}
	set := map[string]bool{}
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		bad := !slices.Contains(allowed, f) || slices.Contains(s.opts.RejectFields, f) ||
			(s.opts.RejectNewFields && (slices.Contains(newAdFields, f) || slices.Contains(newDetailFields, f)))
		if bad {
			return nil, "Invalid parameters: fields: " + f + " is not a valid field"
		}
		set[f] = true
	}
	if len(set) == 0 {
		return nil, "Invalid fields: the fields query parameter is required; supported fields are " + strings.Join(allowed, ",")
	}
	return set, ""
}

// decodeStrict decodes one JSON object, rejecting unknown keys and trailing data.
func decodeStrict(body []byte, v any) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return "Invalid request body: the body is empty"
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return "Invalid request body: " + strings.TrimPrefix(err.Error(), "json: ")
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return "Invalid request body: unexpected data after the JSON object"
	}
	return ""
}

type dateRange struct {
	Min json.RawMessage `json:"min"`
	Max json.RawMessage `json:"max"`
}

type sizeRange struct {
	Min *string `json:"min"`
	Max *string `json:"max"`
}

func parseDateValue(raw json.RawMessage, name string) (time.Time, string) {
	s := string(bytes.TrimSpace(raw))
	if s == "" || s == "null" {
		return time.Time{}, name + " is required"
	}
	if s[0] == '"' {
		var str string
		if err := json.Unmarshal(raw, &str); err != nil {
			return time.Time{}, name + " is not a valid date"
		}
		s = str
	}
	if len(s) != 8 || strings.Trim(s, "0123456789") != "" {
		return time.Time{}, fmt.Sprintf("%s %s is not a date in the format YYYYMMDD", name, s)
	}
	t, err := time.Parse("20060102", s)
	if err != nil {
		return time.Time{}, fmt.Sprintf("%s %s is not a valid date", name, s)
	}
	return t, ""
}

func (s *Server) today() time.Time {
	n := s.opts.Now().UTC()
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

func (s *Server) parseRange(dr *dateRange, name string) (from, to time.Time, msg string) {
	if dr == nil {
		return from, to, "Invalid filters: " + name + " is required"
	}
	if from, msg = parseDateValue(dr.Min, name+".min"); msg != "" {
		return from, to, "Invalid filters: " + msg
	}
	if to, msg = parseDateValue(dr.Max, name+".max"); msg != "" {
		return from, to, "Invalid filters: " + msg
	}
	switch today := s.today(); {
	case from.Before(Epoch):
		msg = fmt.Sprintf("Invalid filters: %s.min %s must be on or after 20221001", name, DateString(from))
	case to.Before(from):
		msg = fmt.Sprintf("Invalid filters: %s.max %s is before min %s", name, DateString(to), DateString(from))
	case !to.Before(today):
		msg = fmt.Sprintf("Invalid filters: %s.max %s must be before today (%s)", name, DateString(to), DateString(today))
	}
	return from, to, msg
}

func parseCountry(p *string, allowed []string, name string) (string, string) {
	if p == nil || *p == "" {
		return "ALL", ""
	}
	c := strings.ToUpper(strings.TrimSpace(*p))
	if c == "ALL" || slices.Contains(allowed, c) {
		return c, ""
	}
	return "", fmt.Sprintf("Invalid filters: %s %q is not a supported country; supported countries are %s", name, *p, strings.Join(allowed, ","))
}

func parseIDs(nums []json.Number, name string) ([]int64, string) {
	var out []int64
	for _, n := range nums {
		id, err := strconv.ParseInt(n.String(), 10, 64)
		if err != nil {
			return nil, fmt.Sprintf("Invalid filters: %s contains %s, which is not a 64-bit integer", name, n)
		}
		out = append(out, id)
	}
	return out, ""
}

func parseMaxCount(n *json.Number, limit int) (int, string) {
	if n == nil {
		return defaultPage, ""
	}
	v, err := strconv.ParseInt(n.String(), 10, 64)
	switch {
	case err != nil:
		return 0, fmt.Sprintf("Invalid parameters: max_count %s is not an integer", n)
	case v == 0:
		return defaultPage, ""
	case v < 0 || v > int64(limit):
		return 0, fmt.Sprintf("Invalid parameters: max_count %d must be between 1 and %d", v, limit)
	}
	return int(v), ""
}

func parseTerm(term string) string {
	if n := utf8.RuneCountInString(term); n > maxTermRunes {
		return fmt.Sprintf("Invalid parameters: search_term is %d characters long; the limit is %d", n, maxTermRunes)
	}
	return ""
}

func hashString(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		_, _ = io.WriteString(h, p)
		_, _ = h.Write([]byte{0})
	}
	return mix64(h.Sum64())
}

// ---- search ids and paging -------------------------------------------------

type searchID struct {
	ep     byte
	qhash  uint64
	offset uint32
	issued time.Time
	// snap is the minute (since Epoch, by Options.Now) the search began, in
	// version 2 ids; -1 in version 1 ids.
	snap int64
}

// Version 2 search ids carry the minute their search began (by Options.Now),
// for a Lifecycle (a search is a snapshot: every page of it sees the ads
// visible when it began) and for SearchIDsExpireAtReset. Servers without
// either keep issuing version 1 ids.
const (
	sidVersion2 = 2
	sidLen2     = 34
)

func (s *Server) sidV2() bool { return s.u.life != nil || s.opts.SearchIDsExpireAtReset }

func minuteIndex(t time.Time) int64 { return max(0, int64(t.Sub(Epoch)/time.Minute)) }

func minuteTime(m int64) time.Time { return Epoch.Add(time.Duration(m) * time.Minute) }

func (s *Server) sidChecksum(b []byte) uint32 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return uint32(mix64(h.Sum64() ^ uint64(s.opts.Seed)*0x9e3779b97f4a7c15))
}

func (s *Server) newSearchID(ep byte, qhash uint64, offset int) string {
	b := make([]byte, sidLen)
	b[0], b[1] = sidVersion, ep
	binary.BigEndian.PutUint64(b[2:], qhash)
	binary.BigEndian.PutUint32(b[10:], uint32(offset))
	binary.BigEndian.PutUint64(b[14:], uint64(time.Now().UnixNano()))
	binary.BigEndian.PutUint32(b[22:], uint32(mix64(s.seq.Add(1))))
	binary.BigEndian.PutUint32(b[26:], s.sidChecksum(b[:26]))
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSearchIDSnap is newSearchID for version 2, with the search's minute.
func (s *Server) newSearchIDSnap(ep byte, qhash uint64, offset int, snap int64) string {
	b := make([]byte, sidLen2)
	b[0], b[1] = sidVersion2, ep
	binary.BigEndian.PutUint64(b[2:], qhash)
	binary.BigEndian.PutUint32(b[10:], uint32(offset))
	binary.BigEndian.PutUint64(b[14:], uint64(time.Now().UnixNano()))
	binary.BigEndian.PutUint32(b[22:], uint32(mix64(s.seq.Add(1))))
	binary.BigEndian.PutUint32(b[26:], uint32(snap))
	binary.BigEndian.PutUint32(b[30:], s.sidChecksum(b[:30]))
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *Server) parseSearchID(id string) (searchID, bool) {
	b, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil {
		return searchID{}, false
	}
	switch {
	case len(b) == sidLen && b[0] == sidVersion && binary.BigEndian.Uint32(b[26:]) == s.sidChecksum(b[:26]):
	case len(b) == sidLen2 && b[0] == sidVersion2 && binary.BigEndian.Uint32(b[30:]) == s.sidChecksum(b[:30]):
	default:
		return searchID{}, false
	}
	sid := searchID{
		ep:     b[1],
		qhash:  binary.BigEndian.Uint64(b[2:]),
		offset: binary.BigEndian.Uint32(b[10:]),
		issued: time.Unix(0, int64(binary.BigEndian.Uint64(b[14:]))),
		snap:   -1,
	}
	if b[0] == sidVersion2 {
		sid.snap = int64(binary.BigEndian.Uint32(b[26:]))
	}
	return sid, true
}

// resolveSearch returns the offset a request continues from and the minute
// its search began: the current minute (by Options.Now) for a first page, -1
// when the server issues version 1 ids.
func (s *Server) resolveSearch(id string, ep byte, qhash uint64) (offset int, snap int64, bad *reply) {
	snap = -1
	if s.sidV2() {
		snap = minuteIndex(s.opts.Now())
	}
	if id == "" {
		return 0, snap, nil
	}
	sid, ok := s.parseSearchID(id)
	if !ok {
		r := badParams("Search Id %s is invalid or expired", id)
		return 0, snap, &r
	}
	if sid.ep != ep || sid.qhash != qhash {
		r := badParams("Invalid parameters: search_id %s belongs to a different query; remove search_id when the filters or search_term change", id)
		return 0, snap, &r
	}
	if s.opts.SearchIDTTL > 0 && time.Since(sid.issued) > s.opts.SearchIDTTL {
		r := badParams("Search Id %s is invalid or expired", id)
		return 0, snap, &r
	}
	if sid.snap >= 0 {
		if s.opts.SearchIDsExpireAtReset && dayIndex(minuteTime(sid.snap)) != dayIndex(s.opts.Now()) {
			r := badParams("Search Id %s is invalid or expired", id)
			return 0, snap, &r
		}
		snap = sid.snap
	}
	return int(sid.offset), snap, nil
}

// nextSearchID is the search_id an answer carries.
func (s *Server) nextSearchID(ep byte, qhash uint64, offset int, snap int64) string {
	if snap >= 0 {
		return s.newSearchIDSnap(ep, qhash, offset, snap)
	}
	return s.newSearchID(ep, qhash, offset)
}

// snapshot is the instant a search sees the universe at (zero without a
// Lifecycle) and the result-set cache key for it.
func (s *Server) snapshot(key uint64, snap int64) (time.Time, uint64) {
	if s.u.life == nil || snap < 0 {
		return time.Time{}, key
	}
	return minuteTime(snap), mix64(key ^ uint64(snap)*0x9e3779b97f4a7c15)
}

// resultSet is a query's complete result with its slot layout: item j sits
// in page slot slots[j]; the slots in between are removed items.
type resultSet struct {
	ads      []adSkel
	contents []contentSkel
	n        int
	slots    []int32 // nil: item j is slot j
	total    int
}

func (rs *resultSet) page(offset, count int) (lo, hi int, hasMore bool) {
	end := offset + count
	if rs.slots == nil {
		lo, hi = min(offset, rs.n), min(end, rs.n)
	} else {
		lo = sort.Search(rs.n, func(j int) bool { return int(rs.slots[j]) >= offset })
		hi = sort.Search(rs.n, func(j int) bool { return int(rs.slots[j]) >= end })
	}
	return lo, hi, end < rs.total
}

// Removed-item runs (Options.HolesRate). Every result set with holes has one
// run of ForcedHoleRun slots, so at any max_count up to 50 at least one page
// is empty with has_more true; no run is longer than MaxHoleRun, so at
// max_count m there are at most ceil(MaxHoleRun/m) consecutive empty pages.
const (
	ForcedHoleRun = 100
	MaxHoleRun    = 120
)

// layoutHoles spreads removed-item slots around n items so that about rate
// of all slots are holes: singles and long runs that empty whole pages.
func (s *Server) layoutHoles(rs *resultSet, key uint64) {
	rate := s.opts.HolesRate
	if rate <= 0 {
		rs.total = rs.n
		return
	}
	rate = min(rate, 0.99)
	// Mean holes per gap between items; 60% of them come in long runs of
	// exponentially distributed length (mean run), the rest as singles.
	e := rate / (1 - rate)
	run := 40.0
	a := 0.6 * e / run                // probability of a long run in a gap
	b := 0.4 * e / (1 - min(a, 0.99)) // probability of a single hole in a gap
	if b > 1 {
		b = 1
		a = (e - 1) / (run - 1)
	}
	if a > 1 {
		a, run = 1, e
	}
	rs.slots = make([]int32, rs.n)
	forced := int(s.u.hash(tagHoles, key, 1<<40, 0) % uint64(rs.n+1))
	pos := 0
	for j := 0; j <= rs.n; j++ {
		h := s.u.hash(tagHoles, key, uint64(j), 0)
		u1 := float64(h>>11) / (1 << 53)
		u2 := float64(mix64(h)>>11) / (1 << 53)
		k := 0
		switch {
		case u1 < a:
			u3 := (float64(mix64(h^1)>>11) + 1) / (1 << 53)
			k = 1 + int(-run*math.Log(u3))
		case u2 < b:
			k = 1
		}
		if j == forced {
			k = max(k, ForcedHoleRun)
		}
		pos += min(k, MaxHoleRun)
		if j < rs.n {
			rs.slots[j] = int32(pos)
			pos++
		}
	}
	rs.total = pos
}

func (s *Server) results(key uint64, build func(rs *resultSet)) *resultSet {
	s.cacheMu.Lock()
	rs, ok := s.cache[key]
	s.cacheMu.Unlock()
	if ok {
		return rs
	}
	rs = &resultSet{}
	build(rs)
	s.layoutHoles(rs, key)
	s.cacheMu.Lock()
	if len(s.cache) >= resultCacheMax {
		clear(s.cache)
	}
	s.cache[key] = rs
	s.cacheMu.Unlock()
	return rs
}

// ---- quirks --------------------------------------------------------------

// variant is one response's choice among the documented contradictions; the
// zero value is the documented form.
type variant struct {
	hasMoreString bool // "true" instead of true
	intDates      bool // 20240101 instead of "20240101"
	buisness      bool // buisness_id
	paidBy        bool // paid_by
	userSeen      bool // unique_user_seen
	numericName   bool // business_name as a JSON number when numeric
	adVideos      bool // detail: ad_videos
	target        bool // detail: target
	codes         bool // affected_countries as codes
	videoObject   bool // commercial content: one "video" object
	noCover       bool // videos items without cover_image_url (Options.RejectNewFields)
}

func (s *Server) variant(a, b uint64) variant {
	if !s.opts.Quirks {
		return variant{}
	}
	h := s.u.hash(tagVariant, a, b, 0)
	bit := func(i uint) bool { return h>>i&1 == 1 }
	return variant{
		hasMoreString: bit(0), intDates: bit(1), buisness: bit(2), paidBy: bit(3), userSeen: bit(4),
		numericName: bit(5), adVideos: bit(6), target: bit(7), codes: bit(8), videoObject: bit(9),
	}
}

func (v variant) hasMore(b bool) any {
	if v.hasMoreString {
		return strconv.FormatBool(b)
	}
	return b
}

func (v variant) date(t time.Time) any {
	ds := DateString(t)
	if v.intDates {
		n, _ := strconv.ParseInt(ds, 10, 64)
		return n
	}
	return ds
}

func (v variant) name(s string) any {
	if v.numericName && isNumeric(s) {
		return json.Number(s)
	}
	return s
}

func isNumeric(s string) bool {
	if s == "" || s[0] == '0' {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

// ---- ad/query ------------------------------------------------------------

type adFiltersReq struct {
	DateRange             *dateRange    `json:"ad_published_date_range"`
	CountryCode           *string       `json:"country_code"`
	AdvertiserBusinessIDs []json.Number `json:"advertiser_business_ids"`
	SizeRange             *sizeRange    `json:"unique_users_seen_size_range"`
}

func parseSizeRange(sr *sizeRange) (lo, hi int64, msg string) {
	if sr == nil {
		return 0, 0, ""
	}
	var ok bool
	if sr.Min != nil {
		if lo, ok = parseSizeValue(*sr.Min, false); !ok {
			return 0, 0, fmt.Sprintf("Invalid filters: unique_users_seen_size_range.min %q must be an integer below 1000 followed by K, M or B", *sr.Min)
		}
	}
	if sr.Max != nil {
		if hi, ok = parseSizeValue(*sr.Max, false); !ok {
			return 0, 0, fmt.Sprintf("Invalid filters: unique_users_seen_size_range.max %q must be an integer below 1000 followed by K, M or B", *sr.Max)
		}
		if hi <= 0 {
			return 0, 0, "Invalid filters: unique_users_seen_size_range.max must be greater than 0"
		}
		if lo > hi {
			return 0, 0, "Invalid filters: unique_users_seen_size_range.min is greater than max"
		}
	}
	return lo, hi, ""
}

func adQueryKey(q AdQuery) uint64 {
	ids := ""
	if q.Term == "" {
		sorted := slices.Clone(q.AdvertiserIDs)
		slices.Sort(sorted)
		sorted = slices.Compact(sorted)
		for _, id := range sorted {
			ids += strconv.FormatInt(id, 10) + ","
		}
	}
	return hashString("ad/query", strings.ToUpper(q.Country), DateString(q.From), DateString(q.To),
		strings.ToLower(q.Term), strings.ToLower(q.SearchType), ids,
		strconv.FormatInt(q.UsersSeenMin, 10), strconv.FormatInt(q.UsersSeenMax, 10))
}

func (s *Server) adQuery(fieldsRaw string, body []byte) reply {
	fs, msg := s.parseFieldsFor(fieldsRaw, adQueryFieldsNew)
	if msg != "" {
		return badParams("%s", msg)
	}
	var req struct {
		Filters    *adFiltersReq `json:"filters"`
		SearchTerm string        `json:"search_term"`
		SearchType string        `json:"search_type"`
		MaxCount   *json.Number  `json:"max_count"`
		SearchID   string        `json:"search_id"`
	}
	if msg := decodeStrict(body, &req); msg != "" {
		return badParams("%s", msg)
	}
	rep := func(r reply) reply { r.reqSID = req.SearchID; return r }
	if req.Filters == nil {
		return rep(badParams("Invalid parameters: filters is required"))
	}
	q := AdQuery{Term: req.SearchTerm}
	if q.From, q.To, msg = s.parseRange(req.Filters.DateRange, "ad_published_date_range"); msg != "" {
		return rep(badParams("%s", msg))
	}
	if q.Country, msg = parseCountry(req.Filters.CountryCode, adCountries, "country_code"); msg != "" {
		return rep(badParams("%s", msg))
	}
	if q.AdvertiserIDs, msg = parseIDs(req.Filters.AdvertiserBusinessIDs, "advertiser_business_ids"); msg != "" {
		return rep(badParams("%s", msg))
	}
	if q.UsersSeenMin, q.UsersSeenMax, msg = parseSizeRange(req.Filters.SizeRange); msg != "" {
		return rep(badParams("%s", msg))
	}
	if msg = parseTerm(req.SearchTerm); msg != "" {
		return rep(badParams("%s", msg))
	}
	switch st := strings.ToLower(req.SearchType); st {
	case "", "exact_phrase":
		q.SearchType = "exact_phrase"
	case "fuzzy_phrase":
		q.SearchType = st
	default:
		return rep(badParams("Invalid parameters: search_type %q must be exact_phrase or fuzzy_phrase", req.SearchType))
	}
	count, msg := parseMaxCount(req.MaxCount, maxPage)
	if msg != "" {
		return rep(badParams("%s", msg))
	}
	if q.Term != "" {
		q.AdvertiserIDs = nil // documented: ignored when search_term is set
	}
	key := adQueryKey(q)
	offset, snap, bad := s.resolveSearch(req.SearchID, epByteAdQuery, key)
	if bad != nil {
		return rep(*bad)
	}
	v := s.variant(key, uint64(offset))
	v.noCover = s.opts.RejectNewFields
	if s.opts.EndlessTerm != "" && strings.EqualFold(strings.TrimSpace(q.Term), strings.TrimSpace(s.opts.EndlessTerm)) {
		next := s.nextSearchID(epByteAdQuery, key, offset+count, snap)
		r := okReply(map[string]any{"ads": []any{}, "has_more": v.hasMore(true), "search_id": next})
		r.nextSID = next
		return rep(r)
	}
	asOf, ckey := s.snapshot(key, snap)
	rs := s.results(ckey, func(rs *resultSet) {
		rs.ads = s.u.matchAdsAt(q, asOf)
		rs.ads = rs.ads[:s.u.served(q, len(rs.ads))]
		rs.n = len(rs.ads)
	})
	lo, hi, more := rs.page(offset, count)
	ads := make([]any, 0, hi-lo)
	for _, sk := range rs.ads[lo:hi] {
		a := s.u.materializeAt(sk, asOf)
		ads = append(ads, renderAd(&a, fs, v, false))
	}
	next := s.nextSearchID(epByteAdQuery, key, offset+count, snap)
	r := okReply(map[string]any{"ads": ads, "has_more": v.hasMore(more), "search_id": next})
	r.nextSID = next
	return rep(r)
}

func hasPrefixed(fs map[string]bool, prefix string) bool {
	for f := range fs {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

func renderAd(a *Ad, fs map[string]bool, v variant, detail bool) map[string]any {
	item := map[string]any{}
	if hasPrefixed(fs, "ad.") {
		ad := map[string]any{}
		if fs["ad.id"] {
			ad["id"] = a.ID
		}
		if fs["ad.first_shown_date"] && !a.FirstShownMissing {
			ad["first_shown_date"] = v.date(a.FirstShown)
		}
		if fs["ad.last_shown_date"] {
			ad["last_shown_date"] = v.date(a.LastShown)
		}
		if fs["ad.status"] {
			ad["status"] = a.Status
		}
		if detail && (fs["ad.status"] || fs["ad.rejection_info"]) && a.Rejection != nil {
			ad["rejection_info"] = renderRejection(a.Rejection, v)
		}
		if fs["ad.status_statement"] && a.StatusStatement != "" {
			ad["status_statement"] = a.StatusStatement
		}
		if fs["ad.videos"] {
			vids := make([]any, 0, len(a.Videos))
			for _, vd := range a.Videos {
				m := map[string]any{"url": vd.URL}
				if !v.noCover && vd.CoverImageURL != "" {
					m["cover_image_url"] = vd.CoverImageURL
				}
				vids = append(vids, m)
			}
			key := "videos"
			if detail && v.adVideos {
				key = "ad_videos"
			}
			ad[key] = vids
		}
		if fs["ad.image_urls"] {
			if a.ImageURLs == nil && len(a.Videos) > 0 {
				ad["image_urls"] = nil // LiveForms: null on video ads
			} else {
				ad["image_urls"] = nonNil(a.ImageURLs)
			}
		}
		if fs["ad.title"] {
			ad["title"] = a.Title
		}
		for _, f := range []struct{ field, key, val string }{
			{"ad.external_url", "external_url", a.ExternalURL},
			{"ad.download_url", "download_url", a.DownloadURL},
			{"ad.call_to_action", "call_to_action", a.CallToAction},
			{"ad.advertising_objective", "advertising_objective", a.AdvertisingObjective},
		} {
			if fs[f.field] && f.val != "" {
				ad[f.key] = f.val
			}
		}
		if fs["ad.reach"] && a.Reach != nil {
			r := map[string]any{}
			key := "unique_users_seen"
			if v.userSeen {
				key = "unique_user_seen"
			}
			r[key] = a.Reach.UniqueUsersSeen
			if detail {
				r["unique_users_seen_by_country"] = a.Reach.ByCountry
			}
			ad["reach"] = r
		}
		item["ad"] = ad
	}
	if hasPrefixed(fs, "advertiser.") {
		adv := map[string]any{}
		if fs["advertiser.business_id"] {
			key := "business_id"
			if v.buisness {
				key = "buisness_id"
			}
			adv[key] = a.Advertiser.BusinessID
		}
		if detail && (fs["advertiser.business_id"] || fs["advertiser.country_code"]) {
			adv["country_code"] = a.Advertiser.CountryCode
		}
		if fs["advertiser.business_name"] {
			adv["business_name"] = v.name(a.Advertiser.BusinessName)
		}
		if fs["advertiser.paid_for_by"] && a.Advertiser.PaidForBy != "" {
			key := "paid_for_by"
			if v.paidBy {
				key = "paid_by"
			}
			adv[key] = a.Advertiser.PaidForBy
		}
		if detail && a.Advertiser.TikTok != nil {
			acc := map[string]any{}
			if fs["advertiser.follower_count"] {
				acc["follower_count"] = a.Advertiser.TikTok.FollowerCount
			}
			if fs["advertiser.avatar_url"] {
				acc["avatar_url"] = a.Advertiser.TikTok.AvatarURL
			}
			if fs["advertiser.profile_url"] {
				acc["profile_url"] = a.Advertiser.TikTok.ProfileURL
			}
			if len(acc) > 0 {
				adv["tiktok_account"] = acc
			}
		}
		item["advertiser"] = adv
	}
	if detail && fs["ad_group.targeting_info"] {
		key := "targeting_info"
		if v.target {
			key = "target"
		}
		item["ad_group"] = map[string]any{key: renderTargeting(&a.Targeting)}
	}
	return item
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func renderTargeting(t *Targeting) map[string]any {
	m := map[string]any{
		"number_of_users_targeted": t.NumberOfUsersTargeted,
		"country":                  nonNil(t.Countries),
		"age":                      t.Age,
		"gender":                   t.Gender,
		"audience_targeting":       t.AudienceTargeting,
	}
	if t.VideoInteractions != "" {
		m["video_interactions"] = t.VideoInteractions
	}
	if t.CreatorInteractions != "" {
		m["creator_interactions"] = t.CreatorInteractions
	}
	if t.Interest != "" {
		m["interest"] = t.Interest
	}
	return m
}

func renderRejection(r *Rejection, v variant) map[string]any {
	m := map[string]any{"reasons": nonNil(r.Reasons), "automated_notice": nil}
	if r.AutomatedNotice != nil {
		m["automated_notice"] = *r.AutomatedNotice
	}
	if len(r.AffectedCountries) > 0 {
		list := make([]string, len(r.AffectedCountries))
		for i, c := range r.AffectedCountries {
			list[i] = c
			if !v.codes {
				list[i] = CountryName(c)
			}
		}
		m["affected_countries"] = list
	}
	if r.ReportingSource != "" {
		m["reporting_source"] = r.ReportingSource
	}
	return m
}

// ---- ad/detail -------------------------------------------------------------

func (s *Server) adDetail(fieldsRaw string, body []byte) reply {
	fs, msg := s.parseFieldsFor(fieldsRaw, adDetailFieldsNew)
	if msg != "" {
		return badParams("%s", msg)
	}
	var req struct {
		AdID json.RawMessage `json:"ad_id"`
	}
	if msg := decodeStrict(body, &req); msg != "" {
		return badParams("%s", msg)
	}
	raw := string(bytes.TrimSpace(req.AdID))
	if raw == "" || raw == "null" {
		return badParams("Invalid parameters: ad_id is required")
	}
	raw = strings.Trim(raw, `"`)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return badParams("Invalid parameters: ad_id %s is not a 64-bit integer", raw)
	}
	a, ok := s.u.AdAsOf(id, s.opts.Now()) // AdDetail without a Lifecycle
	if !ok {
		return badParams("Invalid parameters: ad_id %d does not exist", id)
	}
	v := s.variant(uint64(id), 0xd)
	v.noCover = s.opts.RejectNewFields
	return okReply(renderAd(&a, fs, v, true))
}

// ---- ad/report -------------------------------------------------------------

func (s *Server) adReport(fieldsRaw string, body []byte) reply {
	if _, msg := s.parseFieldsFor(fieldsRaw, adReportFields); msg != "" {
		return badParams("%s", msg)
	}
	var req struct {
		Filters *struct {
			DateRange             *dateRange    `json:"ad_published_date_range"`
			CountryCode           *string       `json:"country_code"`
			AdvertiserBusinessIDs []json.Number `json:"advertiser_business_ids"`
		} `json:"filters"`
	}
	if msg := decodeStrict(body, &req); msg != "" {
		return badParams("%s", msg)
	}
	if req.Filters == nil {
		return badParams("Invalid parameters: filters is required")
	}
	from, to, msg := s.parseRange(req.Filters.DateRange, "ad_published_date_range")
	if msg != "" {
		return badParams("%s", msg)
	}
	country, msg := parseCountry(req.Filters.CountryCode, adCountries, "country_code")
	if msg != "" {
		return badParams("%s", msg)
	}
	ids, msg := parseIDs(req.Filters.AdvertiserBusinessIDs, "advertiser_business_ids")
	if msg != "" {
		return badParams("%s", msg)
	}
	if n := int(dayIndex(to)-dayIndex(from)) + 1; s.opts.ReportMaxDays > 0 && n > s.opts.ReportMaxDays {
		return badParams("Invalid filters: ad_published_date_range spans %d days; the limit is %d days", n, s.opts.ReportMaxDays)
	}
	switch s.ReportOutcome(country, from, to, ids) {
	case Report500:
		return reply{status: http.StatusInternalServerError, code: "internal_error", msg: "Something went wrong. Please try again later.", fault: "report_500"}
	case ReportEmpty:
		r := okReply(map[string]any{"count_time_series_by_country": map[string]any{}})
		r.fault = "report_empty"
		return r
	}
	v := s.variant(hashString(string(body)), 0xe)
	var asOf time.Time
	if s.u.life != nil {
		asOf = s.opts.Now()
	}
	rep := s.u.ReportAt(country, from, to, ids, asOf)
	series := map[string]any{}
	for c, days := range rep {
		dates := make([]string, 0, len(days))
		for d := range days {
			dates = append(dates, d)
		}
		sort.Sort(sort.Reverse(sort.StringSlice(dates)))
		list := make([]any, 0, len(dates))
		for _, d := range dates {
			var date any = d
			if v.intDates {
				n, _ := strconv.ParseInt(d, 10, 64)
				date = n
			}
			list = append(list, map[string]any{"date": date, "count": days[d]})
		}
		series[c] = list
	}
	return okReply(map[string]any{"count_time_series_by_country": series})
}

// ---- advertiser/query ------------------------------------------------------

func (s *Server) advertiserQuery(fieldsRaw string, body []byte) reply {
	fs, msg := s.parseFieldsFor(fieldsRaw, advertiserFields)
	if msg != "" {
		return badParams("%s", msg)
	}
	var req struct {
		SearchTerm *string      `json:"search_term"`
		MaxCount   *json.Number `json:"max_count"`
	}
	if msg := decodeStrict(body, &req); msg != "" {
		return badParams("%s", msg)
	}
	if req.SearchTerm == nil || strings.TrimSpace(*req.SearchTerm) == "" {
		return badParams("Invalid parameters: search_term is required")
	}
	if msg := parseTerm(*req.SearchTerm); msg != "" {
		return badParams("%s", msg)
	}
	count, msg := parseMaxCount(req.MaxCount, maxPage)
	if msg != "" {
		return badParams("%s", msg)
	}
	v := s.variant(hashString(strings.ToLower(*req.SearchTerm)), 0xa)
	list := make([]any, 0)
	for _, a := range s.u.Advertisers(*req.SearchTerm, count) {
		m := map[string]any{}
		if fs["business_id"] {
			m["business_id"] = a.BusinessID
		}
		if fs["business_name"] {
			m["business_name"] = v.name(a.BusinessName)
		}
		if fs["country_code"] {
			m["country_code"] = a.CountryCode
		}
		list = append(list, m)
	}
	return okReply(map[string]any{"advertisers": list})
}

// ---- commercial_content/query ----------------------------------------------

func (s *Server) contentQuery(fieldsRaw string, body []byte) reply {
	fs, msg := s.parseFieldsFor(fieldsRaw, contentFields)
	if msg != "" {
		return badParams("%s", msg)
	}
	var req struct {
		Filters *struct {
			DateRange        *dateRange `json:"content_published_date_range"`
			CountryCode      *string    `json:"creator_country_code"`
			CreatorUsernames []string   `json:"creator_usernames"`
		} `json:"filters"`
		MaxCount *json.Number `json:"max_count"`
		SearchID string       `json:"search_id"`
	}
	if msg := decodeStrict(body, &req); msg != "" {
		return badParams("%s", msg)
	}
	rep := func(r reply) reply { r.reqSID = req.SearchID; return r }
	if req.Filters == nil {
		return rep(badParams("Invalid parameters: filters is required"))
	}
	from, to, msg := s.parseRange(req.Filters.DateRange, "content_published_date_range")
	if msg != "" {
		return rep(badParams("%s", msg))
	}
	country, msg := parseCountry(req.Filters.CountryCode, contentCountries, "creator_country_code")
	if msg != "" {
		return rep(badParams("%s", msg))
	}
	count, msg := parseMaxCount(req.MaxCount, maxPage)
	if msg != "" {
		return rep(badParams("%s", msg))
	}
	users := make([]string, 0, len(req.Filters.CreatorUsernames))
	for _, u := range req.Filters.CreatorUsernames {
		users = append(users, strings.ToLower(u))
	}
	slices.Sort(users)
	users = slices.Compact(users)
	key := hashString("commercial_content/query", country, DateString(from), DateString(to), strings.Join(users, "\x00"))
	offset, snap, bad := s.resolveSearch(req.SearchID, epByteContent, key)
	if bad != nil {
		return rep(*bad)
	}
	v := s.variant(key, uint64(offset))
	asOf, ckey := s.snapshot(key, snap)
	rs := s.results(ckey, func(rs *resultSet) {
		rs.contents = s.u.matchContentAt(country, from, to, req.Filters.CreatorUsernames, asOf)
		rs.n = len(rs.contents)
	})
	lo, hi, more := rs.page(offset, count)
	items := make([]any, 0, hi-lo)
	for _, sk := range rs.contents[lo:hi] {
		c := s.u.materializeContent(sk)
		items = append(items, renderContent(&c, fs, v))
	}
	next := s.nextSearchID(epByteContent, key, offset+count, snap)
	r := okReply(map[string]any{"commercial_contents": items, "has_more": v.hasMore(more), "search_id": next})
	r.nextSID = next
	return rep(r)
}

func renderContent(c *Content, fs map[string]bool, v variant) map[string]any {
	m := map[string]any{}
	if fs["id"] {
		m["id"] = c.ID
	}
	if fs["create_timestamp"] {
		m["create_timestamp"] = c.CreateTimestamp
	}
	if fs["create_date"] {
		m["create_date"] = v.date(c.CreateDate)
	}
	if fs["label"] {
		m["label"] = c.Label
	}
	if fs["brand_names"] {
		m["brand_names"] = nonNil(c.BrandNames)
	}
	if fs["creator"] {
		m["creator"] = map[string]any{"username": c.Creator}
	}
	if fs["videos"] {
		vid := func(x ContentVideo) map[string]any {
			return map[string]any{"id": x.ID, "status": x.Status, "url": x.URL, "cover_image_url": x.CoverImageURL}
		}
		if v.videoObject && len(c.Videos) <= 1 {
			if len(c.Videos) == 1 {
				m["video"] = vid(c.Videos[0])
			}
		} else {
			list := make([]any, 0, len(c.Videos))
			for _, x := range c.Videos {
				list = append(list, vid(x))
			}
			m["videos"] = list
		}
	}
	return m
}
