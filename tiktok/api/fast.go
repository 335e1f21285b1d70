package api

import (
	"bytes"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// The fast path. The decoders in items.go and types.go go through
// encoding/json with an UnmarshalJSON at every level that decodes its own
// sub-slice again, so each byte is validated and skipped once per nesting
// level (envelope, data, list, item, ad, videos, text): on a harvest that is
// most of the CPU. Each Decode* function therefore first reads its whole
// input in one pass with the scanner below, and only when that pass gives up
// returns what the slow path returns for the whole input.
//
// The fast path is conservative by design. It answers only for input it is
// certain to read exactly as encoding/json and the slow path do, and gives up
// on anything else: invalid JSON, a duplicate key (encoding/json lets the
// last one win, or merges it into the first), a key that differs from a known
// one only in case or that holds an escape or a non-ASCII byte (encoding/json
// matches keys case-insensitively, with Unicode folding), invalid UTF-8 or a
// lone surrogate in a string it decodes (encoding/json replaces them), a type
// it does not expect, a value any check refuses, an item that would be a
// reject, very deep nesting. So every reject and every error text still comes
// from the slow path, and the page the fast path returns is, field for field
// and nil for nil, the one the slow path would have returned; the FuzzFast*
// tests hold it to that.

// fastPanics lets tests see a panic in the fast path instead of the quiet
// fall-back that production wants.
var fastPanics = false

// recoverFast turns a panic in the fast path into a fall-back to the slow
// path, which has its own guard, so that a bug here costs speed, never a page
// or the process. It must be deferred directly.
func recoverFast(ok *bool) {
	if fastPanics {
		return
	}
	if recover() != nil {
		*ok = false
	}
}

// maxSkipDepth bounds the nesting of values the fast path skips (keys it
// does not know), far below encoding/json's own limit of 10000, so that the
// fast path never accepts what the slow path refuses for depth.
const maxSkipDepth = 256

// scanner reads one JSON document in a single pass. A failure is sticky: it
// moves to the end of the input, so every later read fails too and every
// loop ends, and the caller checks bad (or end) once at the end.
type scanner struct {
	b   []byte
	i   int
	bad bool
	buf []byte // decoded strings that held escapes; valid until the next str
}

func (s *scanner) fail() {
	s.bad = true
	s.i = len(s.b)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// peek returns the first byte of the next token; at the end of the input,
// where a token was due, it fails.
func (s *scanner) peek() byte {
	s.ws()
	if s.i >= len(s.b) {
		s.fail()
		return 0
	}
	return s.b[s.i]
}

// end reports whether the document was read without failure and nothing but
// white space follows it.
func (s *scanner) end() bool {
	s.ws()
	return !s.bad && s.i == len(s.b)
}

func (s *scanner) lit(word string) {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		s.fail()
		return
	}
	s.i += len(word)
}

// object consumes the '{' of an object and reports true, or consumes a null
// and reports false; anything else fails.
func (s *scanner) object() bool { return s.open('{') }

// list is object for '['.
func (s *scanner) list() bool { return s.open('[') }

func (s *scanner) open(c byte) bool {
	switch s.peek() {
	case c:
		s.i++
		return true
	case 'n':
		s.lit("null")
	default:
		s.fail()
	}
	return false
}

// item consumes the '{' of an object that must be one: a list item, whose
// null the slow path would turn into a reject.
func (s *scanner) item() bool {
	if s.peek() != '{' {
		s.fail()
		return false
	}
	s.i++
	return true
}

// more reports whether the object or list being read has another member,
// consuming the comma before it, or the closing byte end after the last one.
// n counts the members so far.
func (s *scanner) more(end byte, n *int) bool {
	s.ws()
	if s.i >= len(s.b) {
		s.fail()
		return false
	}
	c := s.b[s.i]
	if c == end {
		s.i++
		return false
	}
	if *n > 0 {
		if c != ',' {
			s.fail()
			return false
		}
		s.i++
	}
	*n++
	return true
}

func (s *scanner) colon() {
	if s.peek() != ':' {
		s.fail()
		return
	}
	s.i++
}

// field reads the key of an object member and returns its index in names,
// or -1 for a key that is none of them, whose value it skips (as
// encoding/json ignores unknown keys). It fails on a key seen before in the
// object (seen holds one bit per name), on a key that matches a name only
// when case is ignored, and on a key with an escape or a non-ASCII byte,
// which could spell a name in a way only encoding/json's folding sees.
func (s *scanner) field(names []string, seen *uint32) int {
	if s.peek() != '"' {
		s.fail()
		return -1
	}
	b, i := s.b, s.i+1
	start := i
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	if i >= len(b) || b[i] != '"' {
		s.fail()
		return -1
	}
	k := b[start:i]
	s.i = i + 1
	s.colon()
	for j, n := range names {
		if string(k) == n {
			if *seen&(1<<j) != 0 {
				s.fail()
				return -1
			}
			*seen |= 1 << j
			return j
		}
	}
	for _, n := range names {
		if strings.EqualFold(n, string(k)) {
			s.fail()
			return -1
		}
	}
	s.skip(0)
	return -1
}

// skip validates and skips one value of any kind, as encoding/json's scanner
// would accept it: strings are checked for escapes and control bytes but not
// for UTF-8, which encoding/json does not check in what it skips either.
func (s *scanner) skip(depth int) {
	switch c := s.peek(); {
	case c == '{' || c == '[':
		if depth >= maxSkipDepth {
			s.fail()
			return
		}
		s.i++
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		for n := 0; s.more(end, &n); {
			if c == '{' {
				if s.peek() != '"' {
					s.fail()
					return
				}
				s.skipString()
				s.colon()
			}
			s.skip(depth + 1)
		}
	case c == '"':
		s.skipString()
	case c == 't':
		s.lit("true")
	case c == 'f':
		s.lit("false")
	case c == 'n':
		s.lit("null")
	case c == '-' || isDigit(c):
		s.number()
	default:
		s.fail()
	}
}

// span skips one value and returns its bytes, as encoding/json hands them to
// an UnmarshalJSON or a RawMessage.
func (s *scanner) span() []byte {
	s.ws()
	start := s.i
	s.skip(0)
	if s.bad {
		return nil
	}
	return s.b[start:s.i]
}

// anyByte is true for the bytes a JSON string holds as they are.
var anyByte = func() (t [256]bool) {
	for c := 0x20; c < 0x100; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// plainByte is anyByte for ASCII: the bytes a decoded string is made of as
// sent, with nothing to check.
var plainByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) skipString() {
	b, i := s.b, s.i+1 // at the opening quote
	for i < len(b) {
		switch c := b[i]; {
		case anyByte[c]:
			i++
		case c == '"':
			s.i = i + 1
			return
		case c == '\\' && i+1 < len(b):
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(b[i+2:]) < 0 {
					s.fail()
					return
				}
				i += 6
			default:
				s.fail()
				return
			}
		default:
			s.fail()
			return
		}
	}
	s.fail()
}

// hex4 reads the four hex digits of a \u escape, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// str reads a string and returns its decoded bytes: a sub-slice of the input
// when it holds no escape, else s.buf, valid until the next call. It fails on
// what encoding/json would replace by U+FFFD (invalid UTF-8, a lone
// surrogate) rather than replace it the same way.
func (s *scanner) str() []byte {
	if s.peek() != '"' {
		s.fail()
		return nil
	}
	b, i := s.b, s.i+1
	start := i
	for i < len(b) && plainByte[b[i]] {
		i++
	}
	if i < len(b) && b[i] == '"' {
		s.i = i + 1
		return b[start:i]
	}
	out := append(s.buf[:0], b[start:i]...)
	for i < len(b) {
		j := i
		for j < len(b) && plainByte[b[j]] {
			j++
		}
		out = append(out, b[i:j]...)
		if i = j; i >= len(b) {
			break
		}
		switch c := b[i]; {
		case c == '"':
			s.i, s.buf = i+1, out
			return out
		case c == '\\' && i+1 < len(b):
			switch e := b[i+1]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(b[i+2:])
				if r < 0 {
					s.fail()
					return nil
				}
				if utf16.IsSurrogate(r) {
					// Only a high surrogate followed by a low one.
					var lo rune = -1
					if i+7 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
						lo = hex4(b[i+8:])
					}
					if r = utf16.DecodeRune(r, lo); r == utf8.RuneError {
						s.fail()
						return nil
					}
					i += 6
				}
				out = utf8.AppendRune(out, r)
				i += 4
			default:
				s.fail()
				return nil
			}
			i += 2
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n == 1 {
				s.fail()
				return nil
			}
			out = append(out, b[i:i+n]...)
			i += n
		default: // a control byte, or a backslash at the end
			s.fail()
			return nil
		}
	}
	s.fail()
	return nil
}

// number validates a number as JSON's grammar has it and returns its bytes.
func (s *scanner) number() []byte {
	b, i := s.b, s.i
	start := i
	digits := func() bool {
		j := i
		for i < len(b) && isDigit(b[i]) {
			i++
		}
		return i > j
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		s.fail()
		return nil
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			s.fail()
			return nil
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			s.fail()
			return nil
		}
	}
	s.i = i
	return b[start:i]
}

// The readers below each mirror one decoder of flex.go and types.go, for the
// values that decoder accepts; they fail wherever it would return an error.

// plain reads a string field without a decoder of its own (search_id, the
// error fields): null leaves it empty, and nothing but a string is taken.
func (s *scanner) plain() string {
	if s.peek() == 'n' {
		s.lit("null")
		return ""
	}
	return string(s.str())
}

// integer reads an int field (http_status_code).
func (s *scanner) integer() int {
	switch c := s.peek(); {
	case c == 'n':
		s.lit("null")
		return 0
	case c == '-' || isDigit(c):
		if v, ok := atoi64(s.number()); ok && int64(int(v)) == v {
			return int(v)
		}
	}
	s.fail()
	return 0
}

// text mirrors Text.UnmarshalJSON.
func (s *scanner) text() Text {
	switch c := s.peek(); {
	case c == '"':
		b := s.str()
		if bytes.IndexByte(b, 0) >= 0 {
			return Text(Clean(string(b)))
		}
		return Text(b)
	case c == 'n':
		s.lit("null")
		return ""
	case c == 't':
		s.lit("true")
		return "true"
	case c == 'f':
		s.lit("false")
		return "false"
	case c == '-' || isDigit(c):
		return Text(s.number())
	}
	s.fail()
	return ""
}

// texts mirrors Texts.UnmarshalJSON, which makes an empty list of a null.
func (s *scanner) texts() []string {
	out := []string{}
	if !s.list() {
		return out
	}
	for n := 0; s.more(']', &n); {
		out = append(out, string(s.text()))
	}
	return out
}

// int64 mirrors Int64.UnmarshalJSON.
func (s *scanner) int64() Int64 {
	var t []byte
	switch c := s.peek(); {
	case c == 'n':
		s.lit("null")
		return Int64{}
	case c == '"':
		if t = bytes.TrimSpace(s.str()); len(t) == 0 {
			return Int64{}
		}
	case c == '-' || isDigit(c):
		t = s.number()
	default:
		s.fail()
		return Int64{}
	}
	v, ok := atoi64(t)
	if !ok {
		s.fail()
		return Int64{}
	}
	return Int64{V: v, Valid: true}
}

// atoi64 is strconv.ParseInt(string(t), 10, 64), without the string for the
// plain digits ids are made of (19 of them at most, which a uint64 holds).
func atoi64(t []byte) (int64, bool) {
	d := t
	if len(d) > 0 && d[0] == '-' {
		d = d[1:]
	}
	if len(d) == 0 || len(d) > 19 {
		return parseInt(t)
	}
	var v uint64
	for _, c := range d {
		if !isDigit(c) {
			return parseInt(t)
		}
		v = v*10 + uint64(c-'0')
	}
	switch {
	case len(d) == len(t) && v <= math.MaxInt64:
		return int64(v), true
	case len(d) < len(t) && v <= -math.MinInt64:
		return -int64(v), true
	}
	return 0, false
}

func parseInt(t []byte) (int64, bool) {
	v, err := strconv.ParseInt(string(t), 10, 64)
	return v, err == nil
}

// date mirrors Date.UnmarshalJSON.
func (s *scanner) date() Date {
	var t []byte
	switch c := s.peek(); {
	case c == 'n':
		s.lit("null")
		return Date{}
	case c == '"':
		if t = bytes.TrimSpace(s.str()); string(t) == "null" {
			return Date{}
		}
	case c == '-' || isDigit(c):
		t = s.number()
	default:
		s.fail()
		return Date{}
	}
	if s.bad || len(t) == 0 || string(t) == "0" {
		return Date{}
	}
	d, ok := parseDay(t)
	if !ok {
		s.fail()
		return Date{}
	}
	return Date{T: d, Valid: true}
}

// parseDay is ParseDay for the days it reads as plain digits, YYYYMMDD or
// YYYY-MM-DD, without time.Parse; it refuses everything else, including
// forms ParseDay would still take (a signed year).
func parseDay(t []byte) (time.Time, bool) {
	var y, m, d []byte
	switch {
	case len(t) == 8:
		y, m, d = t[0:4], t[4:6], t[6:8]
	case len(t) == 10 && t[4] == '-' && t[7] == '-':
		y, m, d = t[0:4], t[5:7], t[8:10]
	default:
		return time.Time{}, false
	}
	num := func(b []byte) int {
		n := 0
		for _, c := range b {
			if !isDigit(c) {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	year, month, day := num(y), num(m), num(d)
	if year < 0 || month < 1 || month > 12 || day < 1 {
		return time.Time{}, false
	}
	out := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if out.Day() != day { // past the end of the month
		return time.Time{}, false
	}
	return out, true
}

// hasMore mirrors Bool.UnmarshalJSON by calling it: it reads the raw value.
func (s *scanner) hasMore() Bool {
	var v Bool
	if raw := s.span(); s.bad || v.UnmarshalJSON(raw) != nil {
		s.fail()
	}
	return v
}

// flag mirrors Flag.UnmarshalJSON, calling it for all but the plain forms.
func (s *scanner) flag() Flag {
	raw := s.span()
	switch string(raw) {
	case "true":
		return true
	case "false":
		return false
	}
	var f Flag
	if s.bad || f.UnmarshalJSON(raw) != nil {
		s.fail()
	}
	return f
}

// mapKey reads the key of a map member, decoded as encoding/json does.
func (s *scanner) mapKey() string {
	k := string(s.str())
	s.colon()
	return k
}

// The keys of each object the fast path reads, in the order of the indexes
// that the readers switch on; TestFastKeys checks them against the struct
// tags of the slow path's types.
const (
	keyData = iota
	keyError
)

var envelopeKeys = []string{keyData: "data", keyError: "error"}

const (
	errCode = iota
	errMessage
	errLogID
	errStatus
)

var errorKeys = []string{errCode: "code", errMessage: "message", errLogID: "log_id", errStatus: "http_status_code"}

// pageItems is the index of the list key in adQueryKeys and contentPageKeys.
const (
	pageHasMore = iota
	pageSearchID
	pageItems
)

var (
	adQueryKeys     = []string{pageHasMore: "has_more", pageSearchID: "search_id", pageItems: "ads"}
	contentPageKeys = []string{pageHasMore: "has_more", pageSearchID: "search_id", pageItems: "commercial_contents"}
	advertisersKeys = []string{"advertisers"}
	reportKeys      = []string{"count_time_series_by_country"}
	adDTOKeys       = []string{"ad", "advertiser"}
	creatorKeys     = []string{"username"}
)

const (
	adID = iota
	adFirstShown
	adLastShown
	adStatus
	adStatement
	adVideos
	adAdVideos
	adImages
	adReach
	adRejection
	adTitle
	adExternalURL
	adDownloadURL
	adCallToAction
	adObjective
)

var adKeys = []string{
	adID: "id", adFirstShown: "first_shown_date", adLastShown: "last_shown_date", adStatus: "status",
	adStatement: "status_statement", adVideos: "videos", adAdVideos: "ad_videos", adImages: "image_urls",
	adReach: "reach", adRejection: "rejection_info", adTitle: "title", adExternalURL: "external_url",
	adDownloadURL: "download_url", adCallToAction: "call_to_action", adObjective: "advertising_objective",
}

const (
	videoID = iota
	videoStatus
	videoURL
	videoCover
)

var videoKeys = []string{videoID: "id", videoStatus: "status", videoURL: "url", videoCover: "cover_image_url"}

const (
	reachA = iota
	reachB
	reachByCountry
)

var reachKeys = []string{reachA: "unique_users_seen", reachB: "unique_user_seen", reachByCountry: "unique_users_seen_by_country"}

const (
	rejReasons = iota
	rejCountries
	rejSource
	rejNotice
)

var rejectionKeys = []string{rejReasons: "reasons", rejCountries: "affected_countries", rejSource: "reporting_source", rejNotice: "automated_notice"}

const (
	advID = iota
	advTypo
	advName
	advCountry
	advPaidFor
	advPaidBy
	advAccount
)

var advertiserKeys = []string{
	advID: "business_id", advTypo: "buisness_id", advName: "business_name", advCountry: "country_code",
	advPaidFor: "paid_for_by", advPaidBy: "paid_by", advAccount: "tiktok_account",
}

const (
	accProfile = iota
	accAvatar
	accFollowers
)

var accountKeys = []string{accProfile: "profile_url", accAvatar: "avatar_url", accFollowers: "follower_count"}

const (
	detailAd = iota
	detailAdGroup
	detailAdvertiser
)

var detailKeys = []string{detailAd: "ad", detailAdGroup: "ad_group", detailAdvertiser: "advertiser"}

var adGroupKeys = []string{"targeting_info", "target"}

const (
	tgUsers = iota
	tgCountry
	tgAge
	tgGender
	tgAudience
	tgVideo
	tgCreator
	tgInterest
)

var targetingKeys = []string{
	tgUsers: "number_of_users_targeted", tgCountry: "country", tgAge: "age", tgGender: "gender",
	tgAudience: "audience_targeting", tgVideo: "video_interactions", tgCreator: "creator_interactions", tgInterest: "interest",
}

var dateCountKeys = []string{"date", "count"}

const (
	ccID = iota
	ccCreateDate
	ccCreateTS
	ccLabel
	ccBrands
	ccCreator
	ccVideo
	ccVideos
)

var contentKeys = []string{
	ccID: "id", ccCreateDate: "create_date", ccCreateTS: "create_timestamp", ccLabel: "label",
	ccBrands: "brand_names", ccCreator: "creator", ccVideo: "video", ccVideos: "videos",
}

func (s *scanner) errorStruct() (e ErrorStruct) {
	if !s.object() {
		return e
	}
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(errorKeys, &seen) {
		case errCode:
			e.Code = s.plain()
		case errMessage:
			e.Message = s.plain()
		case errLogID:
			e.LogID = s.plain()
		case errStatus:
			e.HTTPStatusCode = s.integer()
		}
	}
	return e
}

// ad mirrors Ad.UnmarshalJSON; a null is the zero Ad, as there.
func (s *scanner) ad() (a Ad) {
	if !s.object() {
		return a
	}
	var videos, adVideoList []Video
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(adKeys, &seen) {
		case adID:
			a.ID = s.int64()
		case adFirstShown:
			a.FirstShownDate = s.date()
		case adLastShown:
			a.LastShownDate = s.date()
		case adStatus:
			a.Status = s.text()
		case adStatement:
			a.StatusStatement = s.text()
		case adVideos:
			videos = s.videos()
		case adAdVideos:
			adVideoList = s.videos()
		case adImages:
			a.ImageURLs = s.texts()
		case adReach:
			a.Reach = s.reach()
		case adRejection:
			a.RejectionInfo = s.rejection()
		case adTitle:
			a.Title = s.text()
		case adExternalURL:
			a.ExternalURL = s.text()
		case adDownloadURL:
			a.DownloadURL = s.text()
		case adCallToAction:
			a.CallToAction = s.text()
		case adObjective:
			a.AdvertisingObjective = s.text()
		}
	}
	if len(videos) == 0 {
		videos = adVideoList
	}
	a.Videos = videos
	return a
}

// videos reads a []Video: nil for null, and a non-nil empty list for [], as
// encoding/json makes them.
func (s *scanner) videos() []Video {
	if !s.list() {
		return nil
	}
	out := []Video{}
	for n := 0; s.more(']', &n); {
		v, _ := s.video()
		out = append(out, v)
	}
	return out
}

// video mirrors Video.UnmarshalJSON; ok is false for a null (a zero Video in
// a list, a nil *Video).
func (s *scanner) video() (v Video, ok bool) {
	if !s.object() {
		return v, false
	}
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(videoKeys, &seen) {
		case videoID:
			v.ID = s.int64()
		case videoStatus:
			v.Status = s.text()
		case videoURL:
			v.URL = s.text()
		case videoCover:
			v.CoverImageURL = s.text()
		}
	}
	return v, true
}

// reach mirrors Reach.UnmarshalJSON.
func (s *scanner) reach() (r Reach) {
	if !s.object() {
		return r
	}
	var a, b Text
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(reachKeys, &seen) {
		case reachA:
			a = s.text()
		case reachB:
			b = s.text()
		case reachByCountry:
			r.UniqueUsersSeenByCountry = s.byCountry()
		}
	}
	r.UniqueUsersSeen = firstText(a, b)
	return r
}

// byCountry reads unique_users_seen_by_country as Reach keeps it: keys
// cleaned, nil when empty. It fails on two keys that are one once cleaned,
// which the slow path would merge in map order.
func (s *scanner) byCountry() map[string]string {
	if !s.object() {
		return nil
	}
	var m map[string]string
	for n := 0; s.more('}', &n); {
		k := Clean(s.mapKey())
		v := s.text()
		if _, dup := m[k]; dup {
			s.fail()
			return nil
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = string(v)
	}
	return m
}

func (s *scanner) rejection() *RejectionInfo {
	if !s.object() {
		return nil
	}
	r := &RejectionInfo{}
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(rejectionKeys, &seen) {
		case rejReasons:
			r.Reasons = s.texts()
		case rejCountries:
			r.AffectedCountries = s.texts()
		case rejSource:
			r.ReportingSource = s.text()
		case rejNotice:
			r.AutomatedNotice = s.text()
		}
	}
	return r
}

// advertiser mirrors Advertiser.UnmarshalJSON.
func (s *scanner) advertiser() (a Advertiser) {
	if !s.object() {
		return a
	}
	var typo Int64
	var paidBy Text
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(advertiserKeys, &seen) {
		case advID:
			a.BusinessID = s.int64()
		case advTypo:
			typo = s.int64()
		case advName:
			a.BusinessName = s.text()
		case advCountry:
			a.CountryCode = s.text()
		case advPaidFor:
			a.PaidForBy = s.text()
		case advPaidBy:
			paidBy = s.text()
		case advAccount:
			a.TikTokAccount = s.account()
		}
	}
	if !a.BusinessID.Valid {
		a.BusinessID = typo
	}
	a.PaidForBy = firstText(a.PaidForBy, paidBy)
	return a
}

func (s *scanner) account() *TikTokAccount {
	if !s.object() {
		return nil
	}
	t := &TikTokAccount{}
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(accountKeys, &seen) {
		case accProfile:
			t.ProfileURL = s.text()
		case accAvatar:
			t.AvatarURL = s.text()
		case accFollowers:
			t.FollowerCount = s.int64()
		}
	}
	return t
}

func (s *scanner) adDTO() (a AdDTO) {
	if !s.item() {
		return a
	}
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(adDTOKeys, &seen) {
		case 0:
			a.Ad = s.ad()
		case 1:
			a.Advertiser = s.advertiser()
		}
	}
	return a
}

// adGroup mirrors AdGroup.UnmarshalJSON: targeting_info, else target.
func (s *scanner) adGroup() (g AdGroup) {
	if !s.object() {
		return g
	}
	var target *TargetingInfo
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(adGroupKeys, &seen) {
		case 0:
			g.Targeting = s.targeting()
		case 1:
			target = s.targeting()
		}
	}
	if g.Targeting == nil {
		g.Targeting = target
	}
	return g
}

func (s *scanner) targeting() *TargetingInfo {
	if !s.object() {
		return nil
	}
	t := &TargetingInfo{}
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(targetingKeys, &seen) {
		case tgUsers:
			t.NumberOfUsersTargeted = s.text()
		case tgCountry:
			t.Country = s.texts()
		case tgAge:
			t.Age = s.flags()
		case tgGender:
			t.Gender = s.flags()
		case tgAudience:
			t.AudienceTargeting = s.text()
		case tgVideo:
			t.VideoInteractions = s.text()
		case tgCreator:
			t.CreatorInteractions = s.text()
		case tgInterest:
			t.Interest = s.text()
		}
	}
	return t
}

// flags reads an age or gender map: nil for null, non-nil for {}.
func (s *scanner) flags() map[string]Flag {
	if !s.object() {
		return nil
	}
	m := map[string]Flag{}
	for n := 0; s.more('}', &n); {
		k := s.mapKey()
		f := s.flag()
		if _, dup := m[k]; dup {
			s.fail()
			return nil
		}
		m[k] = f
	}
	return m
}

func (s *scanner) adDetail() (d AdDetailData) {
	if !s.item() {
		return d
	}
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(detailKeys, &seen) {
		case detailAd:
			d.Ad = s.ad()
		case detailAdGroup:
			d.AdGroup = s.adGroup()
		case detailAdvertiser:
			d.Advertiser = s.advertiser()
		}
	}
	return d
}

// content mirrors CommercialContent.UnmarshalJSON.
func (s *scanner) content() (c CommercialContent) {
	if !s.item() {
		return c
	}
	var video *Video
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(contentKeys, &seen) {
		case ccID:
			c.ID = s.text()
		case ccCreateDate:
			c.CreateDate = s.date()
		case ccCreateTS:
			c.CreateTimestamp = s.int64()
		case ccLabel:
			c.Label = s.text()
		case ccBrands:
			c.BrandNames = s.texts()
		case ccCreator:
			c.Creator.Username = s.creator()
		case ccVideo:
			if v, ok := s.video(); ok {
				video = &v
			}
		case ccVideos:
			c.Videos = s.videos()
		}
	}
	if len(c.Videos) == 0 && video != nil {
		c.Videos = []Video{*video}
	}
	return c
}

func (s *scanner) creator() (username Text) {
	if !s.object() {
		return ""
	}
	var seen uint32
	for n := 0; s.more('}', &n); {
		if s.field(creatorKeys, &seen) == 0 {
			username = s.text()
		}
	}
	return username
}

func (s *scanner) dateCount() (d DateCount) {
	if !s.item() {
		return d
	}
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(dateCountKeys, &seen) {
		case 0:
			d.Date = s.date()
		case 1:
			d.Count = s.int64()
		}
	}
	return d
}

// scratch holds the items of one list while it is read, so that the list
// the caller keeps is allocated once at its size rather than grown by
// doubling, which made two thirds of the fast path's garbage on a page of
// 50 ads.
type scratch[T any] struct{ pool sync.Pool }

var (
	adDTOScratch      scratch[AdDTO]
	contentScratch    scratch[CommercialContent]
	advertiserScratch scratch[Advertiser]
)

// items reads a list of items, each of which must pass check: a null or
// missing list, or an empty one, is no items (nil), as decodeList has it.
func items[T any](s *scanner, sc *scratch[T], read func(*scanner) T, check func(*T) error) []T {
	if !s.list() {
		return nil
	}
	buf, _ := sc.pool.Get().(*[]T)
	if buf == nil {
		buf = new([]T)
	}
	defer func() {
		clear(*buf) // the pool must not keep a page's strings alive
		*buf = (*buf)[:0]
		sc.pool.Put(buf)
	}()
	for n := 0; s.more(']', &n); {
		v := read(s)
		if s.bad || check(&v) != nil {
			s.fail()
			return nil
		}
		*buf = append(*buf, v)
	}
	if len(*buf) == 0 {
		return nil
	}
	return slices.Clone(*buf)
}

// fastEnvelope is the fast path of DecodeEnvelope. It validates data as it
// skips it, as json.Unmarshal does, and copies it as a RawMessage does.
func fastEnvelope(body []byte) (env Envelope, ok bool) {
	defer recoverFast(&ok)
	s := scanner{b: body}
	if s.peek() != '{' {
		return Envelope{}, false
	}
	s.i++
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(envelopeKeys, &seen) {
		case keyData:
			env.Data = append(json.RawMessage(nil), s.span()...)
		case keyError:
			env.Error = s.errorStruct()
		}
	}
	if !s.end() {
		return Envelope{}, false
	}
	return env, true
}

// page reads the object of a paged endpoint, handing its list to list.
func (s *scanner) page(keys []string, p *Page, list func()) bool {
	if s.peek() != '{' {
		return false
	}
	s.i++
	var seen uint32
	for n := 0; s.more('}', &n); {
		switch s.field(keys, &seen) {
		case pageHasMore:
			p.HasMore = s.hasMore()
		case pageSearchID:
			p.SearchID = s.plain()
		case pageItems:
			list()
		}
	}
	return s.end()
}

// fastAdQuery is the fast path of DecodeAdQuery.
func fastAdQuery(data []byte) (p AdQueryPage, ok bool) {
	defer recoverFast(&ok)
	s := scanner{b: data}
	if !s.page(adQueryKeys, &p.Page, func() {
		p.Ads = items(&s, &adDTOScratch, (*scanner).adDTO, checkAdDTO)
	}) {
		return AdQueryPage{}, false
	}
	return p, true
}

// fastCommercialContent is the fast path of DecodeCommercialContent.
func fastCommercialContent(data []byte) (p CommercialContentPage, ok bool) {
	defer recoverFast(&ok)
	s := scanner{b: data}
	if !s.page(contentPageKeys, &p.Page, func() {
		p.CommercialContents = items(&s, &contentScratch, (*scanner).content, checkContent)
	}) {
		return CommercialContentPage{}, false
	}
	return p, true
}

// fastAdvertiserQuery is the fast path of DecodeAdvertiserQuery.
func fastAdvertiserQuery(data []byte) (p AdvertiserQueryPage, ok bool) {
	defer recoverFast(&ok)
	s := scanner{b: data}
	if s.peek() != '{' {
		return AdvertiserQueryPage{}, false
	}
	s.i++
	var seen uint32
	for n := 0; s.more('}', &n); {
		if s.field(advertisersKeys, &seen) == 0 {
			p.Advertisers = items(&s, &advertiserScratch, (*scanner).advertiserItem, checkAdvertiserItem)
		}
	}
	if !s.end() {
		return AdvertiserQueryPage{}, false
	}
	return p, true
}

func (s *scanner) advertiserItem() Advertiser {
	if s.peek() != '{' {
		s.fail()
	}
	return s.advertiser()
}

// fastAdDetail is the fast path of DecodeAdDetail.
func fastAdDetail(data []byte) (p AdDetailPage, ok bool) {
	defer recoverFast(&ok)
	s := scanner{b: data}
	d := s.adDetail()
	if !s.end() || checkAdDetail(&d) != nil {
		return AdDetailPage{}, false
	}
	return AdDetailPage{Detail: d, OK: true}, true
}

// reportSeries is one series of an ad/report as sent, before the series are
// merged by country in the order of their raw keys.
type reportSeries struct {
	key, cc string
	entries []DateCount // nil for a null series
}

// fastAdReport is the fast path of DecodeAdReport.
func fastAdReport(data []byte) (p AdReportPage, ok bool) {
	defer recoverFast(&ok)
	s := scanner{b: data}
	if s.peek() != '{' {
		return AdReportPage{}, false
	}
	s.i++
	var series []reportSeries
	var seen uint32
	for n := 0; s.more('}', &n); {
		if s.field(reportKeys, &seen) == 0 {
			series = s.reportSeries()
		}
	}
	if !s.end() {
		return AdReportPage{}, false
	}
	// The slow path walks the keys in sorted order, and a key sent twice
	// would be one key there.
	slices.SortFunc(series, func(a, b reportSeries) int { return strings.Compare(a.key, b.key) })
	p.Series = map[string][]DateCount{}
	for i, sr := range series {
		if i > 0 && series[i-1].key == sr.key {
			return AdReportPage{}, false
		}
		if len(sr.entries) > 0 {
			p.Series[sr.cc] = append(p.Series[sr.cc], sr.entries...) // no copy for a country's first series
		}
	}
	return p, true
}

func (s *scanner) reportSeries() []reportSeries {
	if !s.object() {
		return nil
	}
	var out []reportSeries
	var buf []DateCount // one series at a time, so that each is allocated once at its size
	for n := 0; s.more('}', &n); {
		k := s.mapKey()
		cc, ok := countryKey(k)
		if !ok {
			s.fail()
			return nil
		}
		var entries []DateCount
		if s.list() {
			buf = buf[:0]
			for m := 0; s.more(']', &m); {
				d := s.dateCount()
				if s.bad || checkDateCount(&d) != nil {
					s.fail()
					return nil
				}
				buf = append(buf, d)
			}
			entries = slices.Clone(buf)
		}
		out = append(out, reportSeries{key: k, cc: cc, entries: entries})
	}
	return out
}
