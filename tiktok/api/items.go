package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Item-level decoding. A page of ad/query costs quota, and its items are
// independent records: one item with an id of 1.7e18, a date of 2023-13-45 or
// an object where text belongs must not take the page's good items down with
// it, and must not fail the slice for good (every re-run would pay for the
// page again). Each Decode* function below therefore decodes the data object
// of one response into the good items, the page fields, and one Reject per
// item it refused. Its error is kept for a data object that is unusable as a
// whole: not a JSON object, or page fields (has_more, search_id) that cannot
// be read, so that paging never goes on from a page it cannot trust.

// MaxRejectItem bounds Reject.Item, so that a hostile item of megabytes
// cannot blow up the storage of rejects.
const MaxRejectItem = 4 << 10

// maxRejectErr bounds Reject.Err for the same reason: error texts quote values.
const maxRejectErr = 512

// Reject is one item a decoder refused, kept so that the caller can record
// it (and a researcher can see what was sent) instead of losing it silently.
type Reject struct {
	// Index is the item's position in the page's list. For ad/report it
	// counts the entries of all series laid end to end, countries in sorted
	// key order, a refused country key taking one place; so it is unique
	// within the page. -1 means the list itself was unreadable.
	Index int
	// Key is the ad/report country key of the series the entry came from
	// (as sent, cut at 64 bytes); empty for the other endpoints.
	Key string
	// Item is the item as sent, or, beyond MaxRejectItem bytes, a JSON string
	// holding its beginning and a marker: always valid JSON, never larger
	// than MaxRejectItem.
	Item json.RawMessage
	// Err says why, naming the field: `ad.id: "1.7e18" is not a 64-bit integer`.
	Err string
}

func newReject(index int, key string, item []byte, err error) Reject {
	return Reject{Index: index, Key: cut(key, 64), Item: Excerpt(item), Err: cut(err.Error(), maxRejectErr)}
}

// Excerpt returns item as a bounded, valid JSON value: item itself when it is
// valid JSON of at most MaxRejectItem bytes, else a JSON string holding as
// much of its beginning as fits, followed by "…(N bytes)".
func Excerpt(item []byte) json.RawMessage {
	item = bytes.TrimSpace(item)
	if len(item) <= MaxRejectItem && json.Valid(item) {
		return append(json.RawMessage(nil), item...)
	}
	tail := fmt.Sprintf("…(%d bytes)", len(item))
	quote := func(n int) []byte {
		b, _ := json.Marshal(strings.ToValidUTF8(string(item[:n]), "\uFFFD") + tail)
		return b
	}
	// Escaping can grow a byte to six (\u0000), so search for the longest
	// prefix, cut on a rune boundary, that still fits once quoted.
	best := quote(0)
	lo, hi := 0, min(len(item), MaxRejectItem)
	for lo < hi {
		mid := runeFloor(item, (lo+hi+1)/2)
		if mid <= lo {
			break
		}
		if b := quote(mid); len(b) <= MaxRejectItem {
			best, lo = b, mid
		} else {
			hi = mid - 1
		}
	}
	return best
}

// runeFloor moves n back to the start of the rune it falls in.
func runeFloor(b []byte, n int) int {
	for n > 0 && n < len(b) && !utf8.RuneStart(b[n]) {
		n--
	}
	return n
}

// cut shortens s to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// fieldError names where in an item the refused value sits.
type fieldError struct {
	path string
	err  error
}

func (e *fieldError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

// decodeObject decodes b into v and, when that fails, finds the key whose
// value made it fail, so that errors read "ad.id: …" rather than a bare
// "… is not a 64-bit integer". The search re-decodes one key at a time into
// a fresh T, with the same struct tags, so it accepts and refuses exactly what
// the whole decode does; it runs only on the error path.
func decodeObject[T any](b []byte, v *T) error {
	err := json.Unmarshal(b, v)
	if err == nil {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil || len(m) < 1 {
		return friendly(err)
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		one, merr := json.Marshal(map[string]json.RawMessage{k: m[k]})
		if merr != nil {
			continue
		}
		var fresh T
		if e := json.Unmarshal(one, &fresh); e != nil {
			name := cut(k, 64)
			var inner *fieldError
			if errors.As(e, &inner) {
				return &fieldError{path: name + "." + inner.path, err: inner.err}
			}
			return &fieldError{path: name, err: friendly(e)}
		}
	}
	return friendly(err)
}

// friendly rewords encoding/json's type errors, which name Go types, in the
// terms of the wire: "holds a JSON string where a list belongs".
func friendly(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Type != nil {
		return fmt.Errorf("holds a JSON %s where %s belongs", te.Value, wireType(te.Type.String()))
	}
	return err
}

// wireType names a Go type in the terms of the wire: "[]api.Video" is a list.
func wireType(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "api.") || strings.HasPrefix(t, "*api."), strings.HasPrefix(t, "struct"):
		return "an object"
	case t == "string":
		return "a string"
	case t == "bool":
		return "a boolean"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	}
	return t
}

// decodeItem decodes one item and applies check. A panic anywhere in the
// decoders becomes the item's error: a hostile item must never take down the
// page, let alone the process.
func decodeItem[T any](raw []byte, check func(*T) error) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("decoder panic: %v", r)
		}
	}()
	if err = decodeObject(raw, &v); err != nil {
		return v, err
	}
	if check != nil {
		err = check(&v)
	}
	return v, err
}

// decodeList splits the raw value of a list key into items and decodes each
// on its own. A missing or null list is an empty one; a value that is not a
// list is one reject at Index -1, since its items cannot be told apart.
func decodeList[T any](raw json.RawMessage, name string, check func(*T) error) (items []T, rejects []Reject) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var list []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &list) != nil {
		return nil, []Reject{newReject(-1, "", raw, fmt.Errorf("%s is not a list", name))}
	}
	for i, it := range list {
		v, err := decodeItem(it, check)
		if err != nil {
			rejects = append(rejects, newReject(i, "", it, err))
			continue
		}
		items = append(items, v)
	}
	return items, rejects
}

// dataObject refuses data that is not a JSON object: null, a list, a string,
// or bytes that are not JSON at all.
func dataObject(data json.RawMessage) error {
	b := bytes.TrimSpace(data)
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return fmt.Errorf("data is not a JSON object: %s", Excerpt(cutBytes(b, 64)))
	}
	return nil
}

func cutBytes(b []byte, n int) []byte {
	if len(b) <= n {
		return b
	}
	return b[:n]
}

// decodePage reads the page fields of a paged endpoint and leaves its list
// raw. Page fields keep today's strictness: an unreadable has_more or
// search_id fails the page, since paging on from it could skip or repeat.
func decodePage[W any](data json.RawMessage, w *W) error {
	if err := dataObject(data); err != nil {
		return err
	}
	if err := decodeObject(data, w); err != nil {
		return fmt.Errorf("page fields: %w", err)
	}
	return nil
}

// positiveID refuses an id of 0 or below: the API's ids are positive, and a
// row keyed 0 or -1 would merge unrelated records.
func positiveID(what string, n Int64) error {
	if n.Valid && n.V <= 0 {
		return fmt.Errorf("%s %d is not a positive id", what, n.V)
	}
	return nil
}

// AdQueryPage is one ad/query response, decoded item by item.
type AdQueryPage struct {
	Page
	Ads     []AdDTO
	Rejects []Reject
}

// checkAdDTO refuses an ad without an id (it cannot be stored or detailed)
// and ids of 0 or below. A missing business id is allowed: the field is
// optional in the data the service sends.
func checkAdDTO(a *AdDTO) error {
	if !a.Ad.ID.Valid {
		return &fieldError{path: "ad.id", err: errors.New("missing")}
	}
	if err := positiveID("ad id", a.Ad.ID); err != nil {
		return &fieldError{path: "ad.id", err: err}
	}
	return checkAdvertiser(&a.Advertiser, "advertiser.")
}

func checkAdvertiser(a *Advertiser, prefix string) error {
	if err := positiveID("business id", a.BusinessID); err != nil {
		return &fieldError{path: prefix + "business_id", err: err}
	}
	return nil
}

// DecodeAdQuery decodes the data object of an ad/query response. A missing
// has_more is not an error here (Page.HasMore.Set is false); the caller
// decides, as before, that such a page cannot be paged on.
func DecodeAdQuery(data json.RawMessage) (AdQueryPage, error) {
	if p, ok := fastAdQuery(data); ok {
		return p, nil
	}
	return slowAdQuery(data)
}

// slowAdQuery is DecodeAdQuery without the fast path (fast.go): the
// reference the fast path must agree with, and what every reject and error
// comes from.
func slowAdQuery(data json.RawMessage) (AdQueryPage, error) {
	var w struct {
		Page
		Ads json.RawMessage `json:"ads"`
	}
	if err := decodePage(data, &w); err != nil {
		return AdQueryPage{}, err
	}
	ads, rejects := decodeList(w.Ads, "ads", checkAdDTO)
	return AdQueryPage{Page: w.Page, Ads: ads, Rejects: rejects}, nil
}

// CommercialContentPage is one commercial_content/query response, decoded
// item by item.
type CommercialContentPage struct {
	Page
	CommercialContents []CommercialContent
	Rejects            []Reject
}

// checkContent refuses a post without an id, and ids that cannot be right:
// the id is an opaque string in practice ("v09044g40…") and an i64 in the
// table, so a numeric-looking id must be a positive 64-bit integer (1.7e18,
// 2^64, 0 or -5 are refused) and no id may hold white space or control
// characters ("12 34") or be absurdly long.
func checkContent(c *CommercialContent) error {
	id := string(c.ID)
	bad := func(why string) error {
		return &fieldError{path: "id", err: fmt.Errorf("%.40q %s", id, why)}
	}
	switch {
	case id == "":
		return &fieldError{path: "id", err: errors.New("missing")}
	case len(id) > 128:
		return bad("is longer than 128 bytes")
	case strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f || r == utf8.RuneError }):
		return bad("holds white space or control characters")
	case strings.Trim(id, "0123456789+-.eE") == "" && strings.ContainsAny(id, "0123456789"):
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return bad("is not a 64-bit integer")
		}
		if n <= 0 {
			return bad("is not a positive id")
		}
	}
	return nil
}

// DecodeCommercialContent decodes the data object of a
// commercial_content/query response.
func DecodeCommercialContent(data json.RawMessage) (CommercialContentPage, error) {
	if p, ok := fastCommercialContent(data); ok {
		return p, nil
	}
	return slowCommercialContent(data)
}

// slowCommercialContent is DecodeCommercialContent without the fast path.
func slowCommercialContent(data json.RawMessage) (CommercialContentPage, error) {
	var w struct {
		Page
		CommercialContents json.RawMessage `json:"commercial_contents"`
	}
	if err := decodePage(data, &w); err != nil {
		return CommercialContentPage{}, err
	}
	items, rejects := decodeList(w.CommercialContents, "commercial_contents", checkContent)
	return CommercialContentPage{Page: w.Page, CommercialContents: items, Rejects: rejects}, nil
}

// AdvertiserQueryPage is one advertiser/query response, decoded item by item.
// advertiser/query does not page, so there are no page fields.
type AdvertiserQueryPage struct {
	Advertisers []Advertiser
	Rejects     []Reject
}

// DecodeAdvertiserQuery decodes the data object of an advertiser/query
// response. An advertiser without a business id, or with one of 0 or below,
// is refused: the id is the row's key.
func DecodeAdvertiserQuery(data json.RawMessage) (AdvertiserQueryPage, error) {
	if p, ok := fastAdvertiserQuery(data); ok {
		return p, nil
	}
	return slowAdvertiserQuery(data)
}

// checkAdvertiserItem refuses an advertiser/query item without a business
// id, or with one of 0 or below: the id is the row's key.
func checkAdvertiserItem(a *Advertiser) error {
	if !a.BusinessID.Valid {
		return &fieldError{path: "business_id", err: errors.New("missing")}
	}
	return checkAdvertiser(a, "")
}

// slowAdvertiserQuery is DecodeAdvertiserQuery without the fast path.
func slowAdvertiserQuery(data json.RawMessage) (AdvertiserQueryPage, error) {
	if err := dataObject(data); err != nil {
		return AdvertiserQueryPage{}, err
	}
	var w struct {
		Advertisers json.RawMessage `json:"advertisers"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return AdvertiserQueryPage{}, err
	}
	items, rejects := decodeList(w.Advertisers, "advertisers", checkAdvertiserItem)
	return AdvertiserQueryPage{Advertisers: items, Rejects: rejects}, nil
}

// AdReportPage is one ad/report response, decoded entry by entry.
type AdReportPage struct {
	// Series maps an upper-case country code to its good entries, in the
	// order they were sent. Keys that differ only in case are merged.
	Series  map[string][]DateCount
	Rejects []Reject
}

// Count is the number of good entries over all countries.
func (p AdReportPage) Count() int {
	n := 0
	for _, s := range p.Series {
		n += len(s)
	}
	return n
}

// countryKey reads a series key: two ASCII letters, in either case.
func countryKey(k string) (string, bool) {
	k = strings.TrimSpace(Clean(k))
	if len(k) != 2 {
		return "", false
	}
	for i := 0; i < 2; i++ {
		if c := k[i] | 0x20; c < 'a' || c > 'z' {
			return "", false
		}
	}
	return strings.ToUpper(k), true
}

// checkDateCount refuses an entry that says nothing (no date or no count)
// and a negative count.
func checkDateCount(d *DateCount) error {
	switch {
	case !d.Date.Valid:
		return &fieldError{path: "date", err: errors.New("missing")}
	case !d.Count.Valid:
		return &fieldError{path: "count", err: errors.New("missing")}
	case d.Count.V < 0:
		return &fieldError{path: "count", err: fmt.Errorf("%d is negative", d.Count.V)}
	}
	return nil
}

// DecodeAdReport decodes the data object of an ad/report response. A bad
// entry is a reject and its country's other entries stay; a bad country key
// ("", "I T", "Italy") or a series that is not a list rejects that series as
// one item. Only a data object that is not an object, or a
// count_time_series_by_country that is not an object, is an error.
func DecodeAdReport(data json.RawMessage) (AdReportPage, error) {
	if p, ok := fastAdReport(data); ok {
		return p, nil
	}
	return slowAdReport(data)
}

// slowAdReport is DecodeAdReport without the fast path.
func slowAdReport(data json.RawMessage) (AdReportPage, error) {
	if err := dataObject(data); err != nil {
		return AdReportPage{}, err
	}
	var w struct {
		Series json.RawMessage `json:"count_time_series_by_country"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return AdReportPage{}, err
	}
	p := AdReportPage{Series: map[string][]DateCount{}}
	raw := bytes.TrimSpace(w.Series)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return p, nil
	}
	var byKey map[string]json.RawMessage
	if raw[0] != '{' || json.Unmarshal(raw, &byKey) != nil {
		return AdReportPage{}, fmt.Errorf("count_time_series_by_country is not an object: %s", Excerpt(cutBytes(raw, 64)))
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	index := 0
	for _, k := range keys {
		series := bytes.TrimSpace(byKey[k])
		cc, ok := countryKey(k)
		if !ok {
			p.Rejects = append(p.Rejects, newReject(index, k, series, fmt.Errorf("country key %.20q is not a two-letter code", k)))
			index++
			continue
		}
		if bytes.Equal(series, []byte("null")) {
			continue
		}
		var list []json.RawMessage
		if len(series) == 0 || series[0] != '[' || json.Unmarshal(series, &list) != nil {
			p.Rejects = append(p.Rejects, newReject(index, k, series, fmt.Errorf("series of %s is not a list", cc)))
			index++
			continue
		}
		for _, it := range list {
			d, err := decodeItem(it, checkDateCount)
			if err != nil {
				p.Rejects = append(p.Rejects, newReject(index, k, it, err))
			} else {
				p.Series[cc] = append(p.Series[cc], d)
			}
			index++
		}
	}
	return p, nil
}

// AdDetailPage is one ad/detail response. Exactly one of Detail (OK true)
// and Reject is set.
type AdDetailPage struct {
	Detail AdDetailData
	OK     bool
	Reject *Reject
}

// DecodeAdDetail decodes the data object of an ad/detail response. The detail
// is one item: a detail that does not decode, or whose ad or business id is
// 0 or below, comes back as a Reject (Index 0) for the caller to record, so
// that it is neither lost silently nor fetched again. A missing ad.id is
// allowed: the id the request asked for is the key. The error is kept for
// data that is not a JSON object.
func DecodeAdDetail(data json.RawMessage) (AdDetailPage, error) {
	if p, ok := fastAdDetail(data); ok {
		return p, nil
	}
	return slowAdDetail(data)
}

// checkAdDetail refuses a detail whose ad or business id is 0 or below.
func checkAdDetail(d *AdDetailData) error {
	if err := positiveID("ad id", d.Ad.ID); err != nil {
		return &fieldError{path: "ad.id", err: err}
	}
	return checkAdvertiser(&d.Advertiser, "advertiser.")
}

// slowAdDetail is DecodeAdDetail without the fast path.
func slowAdDetail(data json.RawMessage) (AdDetailPage, error) {
	if err := dataObject(data); err != nil {
		return AdDetailPage{}, err
	}
	d, err := decodeItem(data, checkAdDetail)
	if err != nil {
		r := newReject(0, "", data, err)
		return AdDetailPage{Reject: &r}, nil
	}
	return AdDetailPage{Detail: d, OK: true}, nil
}
