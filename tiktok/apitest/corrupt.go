package apitest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Form is one kind of bad value that Corrupt writes into an item. Each is a
// value the live service has been seen to send, or could send, that a
// harvester must refuse item by item (or, for the reach forms, store with
// NULL bounds) instead of losing the page the item came in.
type Form string

const (
	// FormFloatID writes the id (or a report entry's count) as 1.7e18, a
	// float where a 64-bit integer belongs.
	FormFloatID Form = "float-id"
	// FormHugeID writes 18446744073709551616 (2^64), beyond int64.
	FormHugeID Form = "huge-id"
	// FormSpacedID writes the string "12 34".
	FormSpacedID Form = "spaced-id"
	// FormZeroID writes 0 as the id. A count of 0 is legitimate, so this form
	// has no place in ad/report.
	FormZeroID Form = "zero-id"
	// FormNegativeID writes -7 as the id (or the count).
	FormNegativeID Form = "negative-id"
	// FormBadDate writes "2023-13-45", in the form of a date but no day.
	FormBadDate Form = "bad-date"
	// FormObjectText wraps a text field in an object: {"text": <as sent>}.
	FormObjectText Form = "object-text"
	// FormBadCountry renames an ad/report series key "IT" to "IT?".
	FormBadCountry Form = "bad-country"
	// The reach forms write unreadable audience sizes. A decoder keeps the
	// item and the text and gives NULL bounds (never a negative number).
	FormReachNaN     Form = "reach-nan"      // "NaN"
	FormReachNaNK    Form = "reach-nan-k"    // "NaNK"
	FormReachHalfNaN Form = "reach-1k-nan"   // "1K-NaN"
	FormReachHuge    Form = "reach-overflow" // "999999999999B", beyond int64 once multiplied
)

// AllForms lists every Form, in a fixed order.
var AllForms = []Form{
	FormFloatID, FormHugeID, FormSpacedID, FormZeroID, FormNegativeID, FormBadDate, FormObjectText,
	FormBadCountry, FormReachNaN, FormReachNaNK, FormReachHalfNaN, FormReachHuge,
}

// Rejected reports whether an item carrying f must be refused by a decoder.
// Only the reach forms are kept: their item is good, its size unreadable.
func (f Form) Rejected() bool {
	_, reach := reachText[f]
	return !reach
}

var reachText = map[Form]string{
	FormReachNaN: "NaN", FormReachNaNK: "NaNK", FormReachHalfNaN: "1K-NaN", FormReachHuge: "999999999999B",
}

var idValue = map[Form]any{
	FormFloatID: json.Number("1.7e18"), FormHugeID: json.Number("18446744073709551616"),
	FormSpacedID: "12 34", FormZeroID: json.Number("0"), FormNegativeID: json.Number("-7"),
}

// Where each form can go, per endpoint (and, for ad/report, per level).
var (
	idForms    = []Form{FormFloatID, FormHugeID, FormSpacedID, FormZeroID, FormNegativeID}
	countForms = []Form{FormFloatID, FormHugeID, FormSpacedID, FormNegativeID, FormBadDate}
	reachForms = []Form{FormReachNaN, FormReachNaNK, FormReachHalfNaN, FormReachHuge}
	placeForms = map[string][]Form{
		EndpointAdQuery:    slices.Concat(idForms, []Form{FormBadDate, FormObjectText}, reachForms),
		EndpointAdDetail:   slices.Concat(idForms, []Form{FormBadDate, FormObjectText}, reachForms),
		EndpointAdvertiser: slices.Concat(idForms, []Form{FormObjectText}),
		EndpointContent:    slices.Concat(idForms, []Form{FormBadDate, FormObjectText}),
		EndpointAdReport:   countForms,
	}
	reportSeriesForms = []Form{FormBadCountry}
)

// CorruptOptions choose what Corrupt spoils. The zero value spoils one item
// in three of every data endpoint with any form that fits it.
type CorruptOptions struct {
	// Forms are the forms to use; nil means AllForms. An item only gets a
	// form that has a place in it (no reach text in advertiser/query).
	Forms []Form
	// Every spoils one item in Every; 0 means 3, 1 spoils every item.
	Every int
	// Seed varies which items are chosen.
	Seed uint64
	// Endpoints limits Corrupt to these endpoints (the Endpoint* constants);
	// nil means all data endpoints.
	Endpoints []string
	// OnCorrupt, when set, is called for every value written, with the
	// item's key (see Pick). It may be called from several goroutines.
	OnCorrupt func(endpoint, key string, form Form)
}

// Pick returns the form Corrupt writes into the item of endpoint with the
// given key, and false for an item it leaves alone. It is a pure function of
// the options, endpoint and key, so an end-to-end test can predict every
// reject from its Universe, in any request order and across runs. The key is
// the item's id as the server renders it (decimal ad id for ad/query and
// ad/detail, business id for advertiser/query, content id for
// commercial_content/query) or "#<index>" when the item has none; for
// ad/report it is the country code "IT" for the series (only FormBadCountry
// applies) and "IT/20240109" for one entry.
//
// Where a form goes: ad/query and ad/detail take id forms in ad.id, FormBadDate in
// ad.first_shown_date, FormObjectText in ad.status, and reach forms in
// ad.reach.unique_users_seen (ad/detail also in the first country, in code
// order, of unique_users_seen_by_country and in the targeting's
// number_of_users_targeted). advertiser/query takes id forms in business_id
// and FormObjectText in business_name. commercial_content/query takes id
// forms in id, FormBadDate in create_date and FormObjectText in label.
// ad/report takes FormBadDate in an entry's date and FormFloatID,
// FormHugeID, FormSpacedID and FormNegativeID in its count.
func (o CorruptOptions) Pick(endpoint, key string) (Form, bool) {
	places := placeForms[endpoint]
	if endpoint == EndpointAdReport && !strings.Contains(key, "/") {
		places = reportSeriesForms
	}
	return o.pick(endpoint, key, places)
}

func (o CorruptOptions) pick(endpoint, key string, places []Form) (Form, bool) {
	if o.Endpoints != nil && !slices.Contains(o.Endpoints, endpoint) {
		return "", false
	}
	forms := o.Forms
	if forms == nil {
		forms = AllForms
	}
	var fit []Form
	for _, f := range forms {
		if slices.Contains(places, f) && !slices.Contains(fit, f) {
			fit = append(fit, f)
		}
	}
	if len(fit) == 0 {
		return "", false
	}
	every := uint64(o.Every)
	if every == 0 {
		every = 3
	}
	h := fnv.New64a()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], o.Seed)
	h.Write(seed[:])
	h.Write([]byte(endpoint))
	h.Write([]byte{0})
	h.Write([]byte(key))
	v := corruptMix(h.Sum64())
	if v%every != 0 {
		return "", false
	}
	return fit[(v/every)%uint64(len(fit))], true
}

// corruptMix is the splitmix64 finaliser: FNV's low bits alone are poorly
// spread for keys that differ only in their last digits.
func corruptMix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// Corrupt wraps a fake API handler (Server.Handler) and rewrites the
// successful responses of the data endpoints so that the items Pick chooses
// carry a bad value. Everything else (errors, faults, truncated or HTML
// bodies, the token endpoint, unchosen items) passes through unchanged; a
// response it rewrites gets a fresh Content-Length. It is for end-to-end
// tests of a harvester's item-level decoding: harvest through it and check
// that every good item arrived and every spoiled one was recorded.
func Corrupt(next http.Handler, opts CorruptOptions) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ep, ok := strings.CutPrefix(strings.TrimSuffix(r.URL.Path, "/"), strings.TrimSuffix(DataPathBase, "/")+"/")
		if !ok || placeForms[ep] == nil || (opts.Endpoints != nil && !slices.Contains(opts.Endpoints, ep)) {
			next.ServeHTTP(w, r)
			return
		}
		rec := &recorder{header: w.Header()}
		next.ServeHTTP(rec, r)
		if !rec.wrote {
			return
		}
		body := rec.body.Bytes()
		if rec.status == http.StatusOK {
			if nb, ok := corruptBody(ep, body, opts); ok {
				body = nb
				w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			}
		}
		w.WriteHeader(rec.status)
		_, _ = w.Write(body)
	})
}

// recorder buffers a response so that it can be rewritten. It shares the
// real writer's header map: headers pass through as set.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

// corruptBody spoils the chosen items of one envelope. ok is false when the
// body is not a successful JSON envelope or nothing was chosen.
func corruptBody(ep string, body []byte, o CorruptOptions) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber() // 19-digit ids must come out exactly as they went in
	var env map[string]any
	if dec.Decode(&env) != nil {
		return nil, false
	}
	if e, _ := env["error"].(map[string]any); e == nil || e["code"] != "ok" {
		return nil, false
	}
	data, _ := env["data"].(map[string]any)
	if data == nil {
		return nil, false
	}
	c := corrupter{o: o, ep: ep}
	switch ep {
	case EndpointAdQuery:
		c.list(data, "ads", func(it map[string]any) any { return dig(it, "ad", "id") }, c.ad)
	case EndpointAdDetail:
		key := keyText(dig(data, "ad", "id"), 0)
		if f, ok := c.pick(key); ok {
			c.ad(data, f)
			c.detailReach(data, f)
			c.done(key, f)
		}
	case EndpointAdvertiser:
		c.list(data, "advertisers", func(it map[string]any) any { return it["business_id"] }, func(it map[string]any, f Form) {
			if f == FormObjectText {
				it["business_name"] = map[string]any{"text": it["business_name"]}
			} else {
				it["business_id"] = idValue[f]
			}
		})
	case EndpointContent:
		c.list(data, "commercial_contents", func(it map[string]any) any { return it["id"] }, func(it map[string]any, f Form) {
			switch f {
			case FormObjectText:
				it["label"] = map[string]any{"text": it["label"]}
			case FormBadDate:
				it["create_date"] = "2023-13-45"
			default:
				it["id"] = idValue[f]
			}
		})
	case EndpointAdReport:
		c.report(data)
	}
	if !c.changed {
		return nil, false
	}
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	if enc.Encode(env) != nil {
		return nil, false
	}
	return bytes.TrimSuffix(out.Bytes(), []byte("\n")), true
}

type corrupter struct {
	o       CorruptOptions
	ep      string
	changed bool
}

func (c *corrupter) pick(key string) (Form, bool) { return c.o.Pick(c.ep, key) }

func (c *corrupter) done(key string, f Form) {
	c.changed = true
	if c.o.OnCorrupt != nil {
		c.o.OnCorrupt(c.ep, key, f)
	}
}

// list spoils the chosen items of data[name], keyed by key(item).
func (c *corrupter) list(data map[string]any, name string, key func(map[string]any) any, spoil func(map[string]any, Form)) {
	items, _ := data[name].([]any)
	for i, raw := range items {
		it, ok := raw.(map[string]any)
		if !ok {
			continue
		}
		k := keyText(key(it), i)
		if f, ok := c.pick(k); ok {
			spoil(it, f)
			c.done(k, f)
		}
	}
}

// ad spoils an ad/query item or an ad/detail data object.
func (c *corrupter) ad(item map[string]any, f Form) {
	ad, _ := item["ad"].(map[string]any)
	if ad == nil {
		ad = map[string]any{}
		item["ad"] = ad
	}
	switch f {
	case FormBadDate:
		ad["first_shown_date"] = "2023-13-45"
	case FormObjectText:
		status := ad["status"]
		if status == nil {
			status = "active"
		}
		ad["status"] = map[string]any{"text": status}
	default:
		if text, ok := reachText[f]; ok {
			reach, _ := ad["reach"].(map[string]any)
			if reach == nil {
				reach = map[string]any{}
				ad["reach"] = reach
			}
			delete(reach, "unique_user_seen")
			reach["unique_users_seen"] = text
			return
		}
		ad["id"] = idValue[f]
	}
}

// detailReach also spoils ad/detail's other sizes with a reach form.
func (c *corrupter) detailReach(data map[string]any, f Form) {
	text, ok := reachText[f]
	if !ok {
		return
	}
	if by, _ := dig(data, "ad", "reach", "unique_users_seen_by_country").(map[string]any); len(by) > 0 {
		keys := make([]string, 0, len(by))
		for k := range by {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		by[keys[0]] = text
	}
	if g, _ := data["ad_group"].(map[string]any); g != nil {
		for _, k := range []string{"targeting_info", "target"} {
			if t, _ := g[k].(map[string]any); t != nil {
				t["number_of_users_targeted"] = text
			}
		}
	}
}

// report spoils series keys and entries of ad/report.
func (c *corrupter) report(data map[string]any) {
	series, _ := data["count_time_series_by_country"].(map[string]any)
	keys := make([]string, 0, len(series))
	for k := range series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, cc := range keys {
		if f, ok := c.o.pick(c.ep, cc, reportSeriesForms); ok {
			series[cc+"?"] = series[cc]
			delete(series, cc)
			c.done(cc, f)
			continue
		}
		entries, _ := series[cc].([]any)
		for i, raw := range entries {
			e, ok := raw.(map[string]any)
			if !ok {
				continue
			}
			k := cc + "/" + keyText(e["date"], i)
			f, ok := c.o.pick(c.ep, k, countForms)
			if !ok {
				continue
			}
			if f == FormBadDate {
				e["date"] = "2023-13-45"
			} else {
				e["count"] = idValue[f]
			}
			c.done(k, f)
		}
	}
}

// dig walks nested objects.
func dig(v any, path ...string) any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		if m == nil {
			return nil
		}
		v = m[p]
	}
	return v
}

// keyText renders an id as text: digits stay digits, exactly.
func keyText(v any, index int) string {
	switch t := v.(type) {
	case json.Number:
		return t.String()
	case string:
		if t != "" {
			return t
		}
	}
	return "#" + strconv.Itoa(index)
}
