package api

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// fastDecoder is one Decode* function taken apart: its fast path, its slow
// path and the exported function that puts them together.
type fastDecoder struct {
	name   string
	fast   func([]byte) (any, bool)
	slow   func([]byte) (any, error)
	public func([]byte) (any, error)
}

func wrapFast[T any](f func([]byte) (T, bool)) func([]byte) (any, bool) {
	return func(b []byte) (any, bool) { v, ok := f(b); return v, ok }
}

func wrapSlow[T any](f func(json.RawMessage) (T, error)) func([]byte) (any, error) {
	return func(b []byte) (any, error) { v, err := f(b); return v, err }
}

var (
	fastEnvelopeDecoder = fastDecoder{"envelope", wrapFast(fastEnvelope),
		func(b []byte) (any, error) { v, err := slowEnvelope(b); return v, err },
		func(b []byte) (any, error) { v, err := DecodeEnvelope(b); return v, err }}
	fastAdQueryDecoder    = fastDecoder{"ad/query", wrapFast(fastAdQuery), wrapSlow(slowAdQuery), wrapSlow(DecodeAdQuery)}
	fastAdDetailDecoder   = fastDecoder{"ad/detail", wrapFast(fastAdDetail), wrapSlow(slowAdDetail), wrapSlow(DecodeAdDetail)}
	fastContentDecoder    = fastDecoder{"commercial_content/query", wrapFast(fastCommercialContent), wrapSlow(slowCommercialContent), wrapSlow(DecodeCommercialContent)}
	fastAdvertiserDecoder = fastDecoder{"advertiser/query", wrapFast(fastAdvertiserQuery), wrapSlow(slowAdvertiserQuery), wrapSlow(DecodeAdvertiserQuery)}
	fastReportDecoder     = fastDecoder{"ad/report", wrapFast(fastAdReport), wrapSlow(slowAdReport), wrapSlow(DecodeAdReport)}
	fastDataDecoders      = []fastDecoder{fastAdQueryDecoder, fastAdDetailDecoder, fastContentDecoder, fastAdvertiserDecoder, fastReportDecoder}
)

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// differ runs one input through a decoder's fast and slow paths and reports
// whether the fast path answered. Whenever it does, its result must be the
// slow path's, deep-equal, and the slow path must not have failed; the
// exported function must then return the same. When it gives up, the
// exported function must fail exactly as the slow path does. (Its result is
// not compared whole there: the slow path itself is not deterministic for
// by-country keys that are one once cleaned of NUL bytes.)
func differ(t *testing.T, d fastDecoder, in []byte) bool {
	t.Helper()
	fastPanics = true
	defer func() { fastPanics = false }()
	got, ok := d.fast(in)
	want, err := d.slow(in)
	pub, perr := d.public(in)
	if ok {
		if err != nil {
			t.Fatalf("%s: the fast path answered %+v where the slow path fails: %v\ninput: %q", d.name, got, err, in)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: fast and slow paths differ at %s\ninput: %q", d.name, firstDiff(reflect.ValueOf(got), reflect.ValueOf(want), "page"), in)
		}
		if perr != nil || !reflect.DeepEqual(pub, got) {
			t.Fatalf("%s: the exported decoder did not return the fast path's answer: %v", d.name, perr)
		}
	} else if errText(perr) != errText(err) {
		t.Fatalf("%s: the exported decoder fails with %q, the slow path with %q", d.name, errText(perr), errText(err))
	}
	return ok
}

// firstDiff names the first place where a and b, which DeepEqual found
// unequal, differ, with both values there.
func firstDiff(a, b reflect.Value, path string) string {
	here := func() string { return fmt.Sprintf("%s: fast %#v, slow %#v", path, a, b) }
	if a.Kind() != b.Kind() || a.Type() != b.Type() {
		return here()
	}
	switch a.Kind() {
	case reflect.Interface, reflect.Pointer:
		if a.IsNil() != b.IsNil() {
			return here()
		}
		if !a.IsNil() {
			return firstDiff(a.Elem(), b.Elem(), path)
		}
	case reflect.Struct:
		for i := range a.NumField() {
			if d := firstDiff(a.Field(i), b.Field(i), path+"."+a.Type().Field(i).Name); d != "" {
				return d
			}
		}
		return ""
	case reflect.Slice, reflect.Map:
		if a.IsNil() != b.IsNil() || a.Len() != b.Len() {
			return here()
		}
		if a.Kind() == reflect.Map {
			for _, k := range a.MapKeys() {
				if !b.MapIndex(k).IsValid() {
					return here()
				}
				if d := firstDiff(a.MapIndex(k), b.MapIndex(k), fmt.Sprintf("%s[%v]", path, k)); d != "" {
					return d
				}
			}
			return ""
		}
		for i := range a.Len() {
			if d := firstDiff(a.Index(i), b.Index(i), fmt.Sprintf("%s[%d]", path, i)); d != "" {
				return d
			}
		}
		return ""
	}
	if a.CanInterface() && !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return here()
	}
	return ""
}

// fixtures returns every response in testdata by file name.
func fixtures(t testing.TB) map[string][]byte {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	out := map[string][]byte{}
	for _, p := range files {
		out[filepath.Base(p)] = load(t, filepath.Base(p))
	}
	return out
}

// corpus reads the values of the entries that go test keeps under
// testdata/fuzz/<target>, one slice per entry.
func corpus(t testing.TB, target string) [][]any {
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", target, "*"))
	var out [][]any
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var entry []any
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
			open := strings.IndexByte(line, '(')
			if open < 0 || !strings.HasSuffix(line, ")") {
				t.Fatalf("%s: cannot read %q", p, line)
			}
			kind, lit := line[:open], line[open+1:len(line)-1]
			switch kind {
			case "[]byte", "string":
				s, err := strconv.Unquote(lit)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if kind == "string" {
					entry = append(entry, s)
				} else {
					entry = append(entry, []byte(s))
				}
			case "byte", "uint8":
				n, err := strconv.ParseUint(lit, 0, 8)
				if err != nil { // a rune literal: '\x00'
					s, uerr := strconv.Unquote(lit)
					if uerr != nil || len([]rune(s)) != 1 {
						t.Fatalf("%s: cannot read %q", p, line)
					}
					n = uint64([]rune(s)[0])
				}
				entry = append(entry, uint8(n))
			default:
				t.Fatalf("%s: unknown type %q", p, kind)
			}
		}
		out = append(out, entry)
	}
	return out
}

// seedFast adds, for a fuzz target of one []byte, every testdata response
// (whole, and for the data decoders its data object too), the corpora of
// FuzzDecode and FuzzInt64, and the pages that the seeds and the corpus of
// FuzzPageItems build.
func seedFast(f *testing.F, data bool) {
	for _, body := range fixtures(f) {
		f.Add(body)
		if env, err := slowEnvelope(body); data && err == nil {
			f.Add([]byte(env.Data))
		}
	}
	for _, e := range corpus(f, "FuzzDecode") {
		f.Add(e[0].([]byte))
	}
	var values []string
	for _, e := range corpus(f, "FuzzInt64") {
		values = append(values, string(e[0].([]byte)))
	}
	if !data {
		return
	}
	for _, e := range append(corpus(f, "FuzzPageItems"), pageItemSeeds()...) {
		sh := itemShapes[int(e[0].(uint8))%len(itemShapes)]
		f.Add([]byte(sh.page(buildItems(sh, e[1].(string)))))
	}
	// Each FuzzInt64 value in every slot of every shape, one page per value.
	for _, v := range values {
		for _, sh := range itemShapes {
			var lines []string
			for slot := range sh.slots {
				lines = append(lines, string(rune(slot))+v)
			}
			f.Add([]byte(sh.page(buildItems(sh, strings.Join(lines, "\n")))))
		}
	}
}

// pageItemSeeds are FuzzPageItems' own seeds plus pages of good items only.
func pageItemSeeds() [][]any {
	var out [][]any
	for ep := range itemShapes {
		out = append(out, []any{uint8(ep), "\x00123\n\x00456\n\x01789"})
	}
	for _, s := range []struct {
		ep   uint8
		text string
	}{
		{0, "\x00123\n\x001.7e18\n\x0018446744073709551616\n\x0012 34\n\x000\n\x00-7\n\x009223372036854775807"},
		{0, "\x012023-13-45\n\x0120240105\n\x02\"2024-02-30\"\n\x03{\"text\":\"active\"}\n\x05NaN\n\x051K-NaN\n\x05999999999999B"},
		{0, "\x0a1.7e18\n\x0a-1\n\x0b{\"x\":1}\n\x0c7412345678901234567\n\x07[{\"url\":[1]}]\n\x08null\n\x0d{}\n\x0dnull\n\x0d[]"},
		{1, "\x00\"v0904\"\n\x001.7e18\n\x0018446744073709551616\n\x0012 34\n\x00\"0\"\n\x012023-13-45\n\x03{\"t\":1}\n\x08\"x\""},
		{2, "\x007057157514558702338\n\x001.7e18\n\x000\n\x01{\"n\":1}\n\x02[\"FR\"]\n\x04[]"},
		{3, "\x0020240109\n\x002023-13-45\n\x011.7e18\n\x01-2\n\x01\"12 34\"\n\x02null\n\x0245"},
	} {
		out = append(out, []any{s.ep, s.text})
	}
	return out
}

func fuzzFast(f *testing.F, d fastDecoder, data bool) {
	seedFast(f, data)
	f.Fuzz(func(t *testing.T, in []byte) { differ(t, d, in) })
}

func FuzzFastEnvelope(f *testing.F)          { fuzzFast(f, fastEnvelopeDecoder, false) }
func FuzzFastAdQuery(f *testing.F)           { fuzzFast(f, fastAdQueryDecoder, true) }
func FuzzFastAdDetail(f *testing.F)          { fuzzFast(f, fastAdDetailDecoder, true) }
func FuzzFastCommercialContent(f *testing.F) { fuzzFast(f, fastContentDecoder, true) }
func FuzzFastAdvertiserQuery(f *testing.F)   { fuzzFast(f, fastAdvertiserDecoder, true) }
func FuzzFastAdReport(f *testing.F)          { fuzzFast(f, fastReportDecoder, true) }

// FuzzFastPageItems is the structured twin of the byte-level targets: pages
// built item by item as FuzzPageItems builds them (good and bad values in
// every field, so that most inputs are valid JSON of the right shape), and
// each item alone as an ad/detail.
func FuzzFastPageItems(f *testing.F) {
	for _, e := range append(corpus(f, "FuzzPageItems"), pageItemSeeds()...) {
		f.Add(e[0].(uint8), e[1].(string))
	}
	shapes := map[string]fastDecoder{
		"ad/query": fastAdQueryDecoder, "commercial_content/query": fastContentDecoder,
		"advertiser/query": fastAdvertiserDecoder, "ad/report": fastReportDecoder,
	}
	f.Fuzz(func(t *testing.T, ep uint8, text string) {
		sh := itemShapes[int(ep)%len(itemShapes)]
		items := buildItems(sh, text)
		differ(t, shapes[sh.name], []byte(sh.page(items)))
		for _, it := range items {
			differ(t, fastAdDetailDecoder, []byte(it))
		}
	})
}

// valueTokens finds the scalar values and the keys of a JSON document, as
// spans, so that FuzzFastValues can put a fuzzed value in any one place.
type valueToken struct {
	start, end int
	key        bool
}

func valueTokens(doc []byte) []valueToken {
	dec := json.NewDecoder(strings.NewReader(string(doc)))
	dec.UseNumber()
	type frame struct{ object, wantKey bool }
	var stack []frame
	var out []valueToken
	prev := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		end := int(dec.InputOffset())
		start := prev
		for start < end && strings.IndexByte(" \t\r\n,:", doc[start]) >= 0 {
			start++
		}
		prev = end
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].wantKey
		if top >= 0 && stack[top].object {
			stack[top].wantKey = !isKey
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, frame{object: tok == json.Delim('{'), wantKey: true})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:top]
			if top > 0 && stack[top-1].object {
				stack[top-1].wantKey = true
			}
		default:
			out = append(out, valueToken{start, end, isKey})
		}
	}
}

// valueFixtures are the data objects of the fixtures without bad items, with
// their decoders and value tokens, for FuzzFastValues. A realistic page has
// its lists cut to three items (re-encoded as the fake encodes), so that a
// run spends its time on values rather than on 50 ads of the slow path.
func valueFixtures(t testing.TB) (docs [][]byte, toks [][]valueToken, decs []fastDecoder) {
	names := slices.Sorted(func(yield func(string) bool) {
		for name := range fixtures(t) {
			if !strings.Contains(name, "hostile") && !yield(name) {
				return
			}
		}
	})
	for _, name := range names {
		env, err := slowEnvelope(load(t, name))
		if err != nil {
			t.Fatal(err)
		}
		doc := []byte(env.Data)
		if len(doc) > 4<<10 {
			dec := json.NewDecoder(strings.NewReader(string(doc)))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			if doc, err = json.Marshal(cutLists(v, 3)); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range fastDataDecoders {
			prefix := strings.ReplaceAll(strings.ReplaceAll(d.name, "/", "_"), "commercial_content_query", "commercial_content")
			if strings.HasPrefix(name, prefix+"_") {
				docs, toks, decs = append(docs, doc), append(toks, valueTokens(doc)), append(decs, d)
			}
		}
	}
	return docs, toks, decs
}

func cutLists(v any, n int) any {
	switch v := v.(type) {
	case []any:
		v = v[:min(n, len(v))]
		for i := range v {
			v[i] = cutLists(v[i], n)
		}
		return v
	case map[string]any:
		for k := range v {
			v[k] = cutLists(v[k], n)
		}
	}
	return v
}

// FuzzFastValues puts one fuzzed value into one place of a good page: any
// scalar value (raw when it is JSON, else as a string), or, with key set,
// any key (as a string). Most inputs are thus valid pages with one odd
// field, the kind of input where a fast path and a slow one part ways.
func FuzzFastValues(f *testing.F) {
	docs, toks, decs := valueFixtures(f)
	if len(docs) < 8 {
		f.Fatalf("%d fixtures", len(docs))
	}
	for i := range docs {
		for j, v := range []string{`null`, `"x"`, `1.5`, `-0`, `{}`, `[]`, `[null]`, `true`, `""`, `" 5 "`, `"20240230"`, `"2024-02-29"`,
			`"\u0000"`, `"\ud83d\udd25"`, `"\ud800"`, "\xff", `9223372036854775808`, `"+5"`, `{"a":[1,{"b":null}]}`} {
			f.Add(uint8(i), uint16(j*7), false, v)
		}
		for j, k := range []string{"ID", "Status", "ſtatus", "id\u0000", "unknown", "ad", "videos", "data"} {
			f.Add(uint8(i), uint16(j*5), true, k)
		}
	}
	f.Fuzz(func(t *testing.T, file uint8, which uint16, key bool, value string) {
		i := int(file) % len(docs)
		if len(toks[i]) == 0 {
			return
		}
		tok := toks[i][int(which)%len(toks[i])]
		if key && !tok.key {
			return
		}
		repl := []byte(value)
		if key || !json.Valid(repl) {
			repl, _ = json.Marshal(value)
		}
		doc := docs[i]
		differ(t, decs[i], slices.Concat(doc[:tok.start], repl, doc[tok.end:]))
	})
}

// TestFastPathTakesFixtures: every response in testdata that has no bad
// item goes through the fast path, envelope and data, with the slow path's
// result; the hostile ones, which hold rejects, fall back to it.
func TestFastPathTakesFixtures(t *testing.T) {
	decoders := map[string]fastDecoder{
		"ad_query": fastAdQueryDecoder, "ad_detail": fastAdDetailDecoder, "commercial_content": fastContentDecoder,
		"advertiser_query": fastAdvertiserDecoder, "ad_report": fastReportDecoder,
	}
	for name, body := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			if !differ(t, fastEnvelopeDecoder, body) {
				t.Fatal("the envelope fell back to the slow path")
			}
			env, _ := DecodeEnvelope(body)
			var d fastDecoder
			for prefix, dec := range decoders {
				if strings.HasPrefix(name, prefix+"_") {
					d = dec
				}
			}
			if d.name == "" {
				t.Fatalf("no decoder for %s", name)
			}
			hostile := strings.Contains(name, "hostile")
			if took := differ(t, d, env.Data); took == hostile {
				t.Fatalf("%s: fast path taken %v, want %v", d.name, took, !hostile)
			}
		})
	}
}

// TestFastPathTakesQuirks: the documented quirks and the encodings a live
// page uses each go through the fast path, with the slow path's result. A
// fast path that quietly gave up on any of them would cost its speed on
// every page that has it.
func TestFastPathTakesQuirks(t *testing.T) {
	ad := func(ad, adv string) string {
		if ad != "" {
			ad = "," + ad
		}
		return `{"has_more":true,"search_id":"s","ads":[{"ad":{"id":1801234567890123` + ad + `},"advertiser":{` + adv + `}}]}`
	}
	detail := func(s string) string { return `{"ad":{"id":1},"advertiser":{"business_id":2},` + s + `}` }
	for _, tc := range []struct {
		name string
		d    fastDecoder
		in   string
	}{
		{"string id, 19-digit business id", fastAdQueryDecoder, `{"ads":[{"ad":{"id":"7301234567890123456"},"advertiser":{"business_id":7057157514558702338}}]}`},
		{"id string with spaces", fastAdQueryDecoder, `{"ads":[{"ad":{"id":" 7301234567890123456 "}}]}`},
		{"id null, business id empty string", fastAdDetailDecoder, `{"ad":{"id":null},"advertiser":{"business_id":""}}`},
		{"id at the int64 limit", fastAdQueryDecoder, `{"ads":[{"ad":{"id":9223372036854775807}}]}`},
		{"signed id string, as strconv takes it", fastAdDetailDecoder, `{"ad":{"id":"+5"}}`},
		{"id with escapes", fastAdQueryDecoder, `{"ads":[{"ad":{"id":"\u0031\u0032"}}]}`},
		{"dates as integer, string, dashed", fastAdQueryDecoder, ad(`"first_shown_date":20210101,"last_shown_date":"2021-01-31"`, ``)},
		{"date as string of digits", fastAdQueryDecoder, ad(`"first_shown_date":"20240229"`, ``)},
		{"empty dates", fastAdQueryDecoder, ad(`"first_shown_date":0,"last_shown_date":""`, ``)},
		{"null and \"0\" and \"null\" dates", fastAdDetailDecoder, `{"ad":{"first_shown_date":null,"last_shown_date":"0"},"advertiser":{}}`},
		{"\"null\" date", fastAdDetailDecoder, `{"ad":{"first_shown_date":"null"}}`},
		{"numeric business_name", fastAdQueryDecoder, ad(``, `"business_id":7057157514558702339,"business_name":7057157514558702339`)},
		{"text as float, bool, null", fastAdQueryDecoder, ad(`"status":1.5e3,"status_statement":true,"title":null`, `"business_name":false`)},
		{"negative number as text", fastAdQueryDecoder, ad(`"status":-1`, ``)},
		{"videos", fastAdQueryDecoder, ad(`"videos":[{"url":"https://v/1","cover_image_url":"https://c/1"},{"url":"https://v/2"}]`, ``)},
		{"ad_videos", fastAdDetailDecoder, `{"ad":{"id":1,"ad_videos":[{"url":"https://v/1"}]}}`},
		{"videos [] beside ad_videos", fastAdQueryDecoder, ad(`"videos":[],"ad_videos":[{"url":"https://v/1"}]`, ``)},
		{"videos [] alone", fastAdQueryDecoder, ad(`"videos":[]`, ``)},
		{"ad_videos [] alone", fastAdQueryDecoder, ad(`"ad_videos":[]`, ``)},
		{"videos null", fastAdQueryDecoder, ad(`"videos":null,"ad_videos":null`, ``)},
		{"null video in the list", fastAdQueryDecoder, ad(`"videos":[null,{"url":"u"}]`, ``)},
		{"unique_users_seen", fastAdQueryDecoder, ad(`"reach":{"unique_users_seen":"10K-100K"}`, ``)},
		{"unique_user_seen", fastAdQueryDecoder, ad(`"reach":{"unique_user_seen":"11K"}`, ``)},
		{"both reach spellings", fastAdQueryDecoder, ad(`"reach":{"unique_users_seen":"","unique_user_seen":"11K"}`, ``)},
		{"both reach spellings set", fastAdQueryDecoder, ad(`"reach":{"unique_user_seen":"11K","unique_users_seen":"10K-100K"}`, ``)},
		{"reach null", fastAdQueryDecoder, ad(`"reach":null`, ``)},
		{"by country", fastAdDetailDecoder, `{"ad":{"reach":{"unique_users_seen_by_country":{"DE":"47K","AT":"0-1K","IT":null,"FR":5}}}}`},
		{"by country empty", fastAdDetailDecoder, `{"ad":{"reach":{"unique_users_seen_by_country":{}}}}`},
		{"by country key with NUL", fastAdDetailDecoder, `{"ad":{"reach":{"unique_users_seen_by_country":{"D\u0000E":"1K"}}}}`},
		{"buisness_id", fastAdQueryDecoder, ad(``, `"buisness_id":3847236290405`)},
		{"business_id null beside buisness_id", fastAdQueryDecoder, ad(``, `"business_id":null,"buisness_id":"3847236290405"`)},
		{"business_id beside buisness_id", fastAdQueryDecoder, ad(``, `"business_id":7057157514558702338,"buisness_id":3847236290405`)},
		{"paid_by", fastAdQueryDecoder, ad(``, `"paid_by":"Awe Co."`)},
		{"paid_for_by beside paid_by", fastAdQueryDecoder, ad(``, `"paid_for_by":"7412345678901234567","paid_by":"Awe Co."`)},
		{"NUL bytes in text", fastAdQueryDecoder, ad(`"status":"act\u0000ive"`, `"business_name":"Caf\u00e9 \"Zum\u0000Hirsch\", GmbH\nBerlin"`)},
		{"escapes", fastAdQueryDecoder, ad(`"title":"\"q\" \\ \/ \b\f\n\r\t \u0026 \u00e9 \u20ac \ud83d\udd25"`, ``)},
		{"raw UTF-8", fastAdQueryDecoder, ad(`"title":"Ørsted Ænergy ☕ 🔥 \u2028"`, `"business_name":"Coffee Corner 株式会社"`)},
		{"U+FFFD as sent", fastAdQueryDecoder, ad(`"title":"\ufffd �"`, ``)},
		{"image_urls null", fastAdQueryDecoder, ad(`"image_urls":null`, ``)},
		{"image_urls []", fastAdQueryDecoder, ad(`"image_urls":[]`, ``)},
		{"image_urls with a null and a number", fastAdQueryDecoder, ad(`"image_urls":["https://i\u0026x=1",null,7]`, ``)},
		{"2026-09 fields", fastAdQueryDecoder, ad(`"title":"t","external_url":"https://e","download_url":null,"call_to_action":"Shop now","advertising_objective":"Traffic"`, ``)},
		{"unknown keys at every level", fastAdQueryDecoder, `{"x":{"y":[1,-2.5e-3,true,false,null,"\u00e9\ud800\\",{"":{}}]},"ads":[{"z":[],"ad":{"id":5,"new":{"a":[[]]},"videos":[{"w":1,"url":"u"}],"reach":{"q":"r"}},"advertiser":{"zz":"` + "\xff" + `"}}],"has_more":false}`},
		{"white space", fastAdQueryDecoder, " \t\n\r{ \"ads\" : [ { \"ad\" : { \"id\" : 5 , \"videos\" : [ ] } } ] , \"has_more\" : \"true\" } \n"},
		{"has_more \"true\"", fastAdQueryDecoder, `{"has_more":"true","ads":[]}`},
		{"has_more \"false\"", fastAdQueryDecoder, `{"has_more":"false","search_id":null}`},
		{"has_more forms", fastContentDecoder, `{"has_more":"TRUE","search_id":"x"}`},
		{"has_more 0", fastAdQueryDecoder, `{"has_more":0}`},
		{"has_more null", fastAdQueryDecoder, `{"has_more":null,"ads":null}`},
		{"no has_more", fastAdQueryDecoder, `{"search_id":"s\u0026t"}`},
		{"empty data", fastAdQueryDecoder, `{}`},
		{"ad null in a detail", fastAdDetailDecoder, `{"ad":null,"advertiser":null,"ad_group":null}`},
		{"empty detail", fastAdDetailDecoder, `{}`},
		{"targeting_info", fastAdDetailDecoder, detail(`"ad_group":{"targeting_info":{"number_of_users_targeted":"4.9M-5.9M","country":["DE","AT"],"age":{"13-17":false,"18-24":true},"gender":{"female":true,"male":"false","other_genders":"1"},"audience_targeting":"No","video_interactions":"Food","creator_interactions":"Food","interest":"Food & Drink"}}`)},
		{"target, swapped maps", fastAdDetailDecoder, detail(`"ad_group":{"target":{"age":{"female":true},"gender":{"13-17":0,"55+":null},"country":null}}`)},
		{"targeting_info beside target", fastAdDetailDecoder, detail(`"ad_group":{"target":{"interest":"a"},"targeting_info":{"interest":"b"}}`)},
		{"targeting_info null beside target", fastAdDetailDecoder, detail(`"ad_group":{"targeting_info":null,"target":{"age":{}}}`)},
		{"rejection_info", fastAdDetailDecoder, `{"ad":{"id":1,"rejection_info":{"reasons":["r"],"affected_countries":["Austria","FR"],"reporting_source":"s","automated_notice":null}}}`},
		{"rejection_info null", fastAdDetailDecoder, `{"ad":{"rejection_info":null}}`},
		{"tiktok_account", fastAdDetailDecoder, `{"advertiser":{"business_id":1,"country_code":"AT","tiktok_account":{"avatar_url":"a","follower_count":"26374","profile_url":"p"}}}`},
		{"tiktok_account null", fastAdDetailDecoder, `{"advertiser":{"tiktok_account":null}}`},
		{"content: string and numeric ids, video and videos", fastContentDecoder, `{"commercial_contents":[{"id":"v09044g40000ce6enu3c77u36l73sp20","videos":[{"url":"u","cover_image_url":"c"}]},{"id":38267490502373,"video":{"id":"19384729204821234","status":"active","url":"u"}}],"has_more":"true","search_id":"2837438294054038"}`},
		{"content: videos [] beside video", fastContentDecoder, `{"commercial_contents":[{"id":"v1","videos":[],"video":{"url":"u"}},{"id":"v2","videos":[]},{"id":"v3","video":null}]}`},
		{"content: creator, brands, timestamp", fastContentDecoder, `{"commercial_contents":[{"id":"v1","creator":{"username":"joe","x":1},"brand_names":["A",null],"create_timestamp":"1696875852","create_date":20230109,"label":"Paid partnership"},{"id":"v2","creator":null,"brand_names":null}]}`},
		{"advertisers, page fields ignored", fastAdvertiserDecoder, `{"has_more":"maybe","search_id":7,"advertisers":[{"business_id":5,"business_name":183746395837295,"country_code":"FR"},{"buisness_id":"6"}]}`},
		{"no advertisers", fastAdvertiserDecoder, `{"advertisers":null}`},
		{"report", fastReportDecoder, `{"count_time_series_by_country":{"IT":[{"date":"20240109","count":45},{"date":20240108,"count":"24"}],"ES":[{"date":"2024-01-09","count":0}]}}`},
		{"report: keys merged by case, in key order", fastReportDecoder, `{"count_time_series_by_country":{"de":[{"date":"20240109","count":1}],"DE":[{"date":"20240108","count":2}]," It ":[{"date":"20240107","count":3}]}}`},
		{"report: null and empty series", fastReportDecoder, `{"count_time_series_by_country":{"NL":null,"PL":[],"FR":[{"date":"20240109","count":9}]}}`},
		{"report: no series", fastReportDecoder, `{"count_time_series_by_country":null}`},
		{"report: empty", fastReportDecoder, `{}`},
		{"envelope: error fields", fastEnvelopeDecoder, `{"data":{"ads":[]},"error":{"code":"ok","message":"","log_id":"2025\u0026","http_status_code":200,"extra":[1]},"extra":null}`},
		{"envelope: data null, error null", fastEnvelopeDecoder, `{"data":null,"error":null}`},
		{"envelope: data a list, with invalid UTF-8", fastEnvelopeDecoder, "{\"data\":[1,\"\xff\"]}"},
		{"envelope: NUL bytes kept where no Text strips them", fastEnvelopeDecoder, `{"data":{"search_id":"s\u0000"},"error":{"code":"o\u0000k","log_id":"\u0000"}}`},
		{"envelope: error only", fastEnvelopeDecoder, `{"error":{"code":"rate_limit_exceeded","message":"slow down","http_status_code":-0}}`},
		{"envelope: empty", fastEnvelopeDecoder, ` {} `},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !json.Valid([]byte(tc.in)) {
				t.Fatalf("not JSON: %s", tc.in)
			}
			if !differ(t, tc.d, []byte(tc.in)) {
				got, err := tc.d.slow([]byte(tc.in))
				t.Fatalf("%s fell back to the slow path, which gives %+v, %v", tc.d.name, got, err)
			}
		})
	}
}

// TestFastPathGivesUp: what the fast path does not read exactly as
// encoding/json does, and every page with a reject, goes to the slow path
// whole, so that rejects and errors are the slow path's.
func TestFastPathGivesUp(t *testing.T) {
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	for _, tc := range []struct {
		name string
		d    fastDecoder
		in   string
	}{
		{"duplicate key", fastAdQueryDecoder, `{"ads":[],"ads":[{"ad":{"id":1}}]}`},
		{"duplicate key in an ad", fastAdQueryDecoder, `{"ads":[{"ad":{"id":1,"id":2}}]}`},
		{"duplicate map key", fastAdDetailDecoder, `{"ad_group":{"target":{"age":{"18-24":true,"18-24":false}}}}`},
		// The slow path keeps either value, in map order: see differ.
		{"by-country keys one once cleaned", fastAdDetailDecoder, `{"ad":{"reach":{"unique_users_seen_by_country":{"D\u0000E":"1K","DE":"2K"}}}}`},
		{"report key sent twice", fastReportDecoder, `{"count_time_series_by_country":{"IT":null,"IT":[{"date":"20240109","count":1}]}}`},
		{"key in upper case", fastAdQueryDecoder, `{"ads":[{"ad":{"ID":1}}]}`},
		{"page key in mixed case", fastAdQueryDecoder, `{"Has_More":true,"ads":[]}`},
		{"key with an escape", fastAdQueryDecoder, `{"ads":[{"ad":{"\u0069d":1}}]}`},
		{"key that folds to a known one", fastAdQueryDecoder, `{"ads":[{"ad":{"id":1,"ſtatus":"x"}}]}`},
		{"envelope key in upper case", fastEnvelopeDecoder, `{"DATA":{}}`},
		{"invalid UTF-8 in text", fastAdQueryDecoder, "{\"ads\":[{\"ad\":{\"id\":1,\"status\":\"\xff\"}}]}"},
		{"lone surrogate", fastAdQueryDecoder, `{"ads":[{"ad":{"id":1,"status":"\ud800"}}]}`},
		{"reversed surrogates", fastAdQueryDecoder, `{"ads":[{"ad":{"id":1,"status":"\udc00\ud800"}}]}`},
		{"float id", fastAdQueryDecoder, `{"ads":[{"ad":{"id":1.7e18}}]}`},
		{"id past int64", fastAdQueryDecoder, `{"ads":[{"ad":{"id":9223372036854775808}}]}`},
		{"bad date", fastAdQueryDecoder, `{"ads":[{"ad":{"id":1,"first_shown_date":"2023-13-45"}}]}`},
		{"object where text belongs", fastAdQueryDecoder, `{"ads":[{"ad":{"id":1,"status":{"text":"active"}}}]}`},
		{"missing ad id", fastAdQueryDecoder, `{"ads":[{"advertiser":{"business_id":1}}]}`},
		{"null item", fastAdQueryDecoder, `{"ads":[null]}`},
		{"ads not a list", fastAdQueryDecoder, `{"ads":"oops"}`},
		{"bad has_more", fastAdQueryDecoder, `{"has_more":"maybe","ads":[]}`},
		{"numeric search_id", fastAdQueryDecoder, `{"search_id":5}`},
		{"trailing comma", fastAdQueryDecoder, `{"ads":[{"ad":{"id":1}},]}`},
		{"control byte in a skipped string", fastAdQueryDecoder, "{\"x\":\"a\x01b\",\"ads\":[]}"},
		{"control byte in a text", fastAdQueryDecoder, "{\"ads\":[{\"ad\":{\"id\":1,\"status\":\"a\tb\"}}]}"},
		{"control byte in a key", fastAdQueryDecoder, "{\"a\nb\":1}"},
		{"bad escape in a skipped string", fastAdQueryDecoder, `{"x":"\x41","ads":[]}`},
		{"short \\u in a skipped string", fastAdQueryDecoder, `{"x":"\u12","ads":[]}`},
		{"number without digits after the point", fastAdQueryDecoder, `{"x":1.,"ads":[]}`},
		{"number without exponent digits", fastAdQueryDecoder, `{"x":1e+,"ads":[]}`},
		{"number with a plus", fastAdQueryDecoder, `{"x":+1}`},
		{"number with a leading point", fastAdQueryDecoder, `{"x":.5}`},
		{"a lone minus", fastAdQueryDecoder, `{"x":-}`},
		{"a cut literal", fastAdQueryDecoder, `{"x":tru}`},
		{"a literal run on", fastAdQueryDecoder, `{"x":nullx}`},
		{"an unclosed string", fastAdQueryDecoder, `{"x":"abc}`},
		{"a key without a value", fastAdQueryDecoder, `{"x":}`},
		{"a non-string key", fastAdQueryDecoder, `{"x":{1:2}}`},
		{"a missing colon", fastAdQueryDecoder, `{"x" 1}`},
		{"two values in a list without a comma", fastAdQueryDecoder, `{"x":[1 2]}`},
		{"leading zero", fastAdQueryDecoder, `{"ads":[{"ad":{"id":01}}]}`},
		{"truncated", fastAdQueryDecoder, `{"ads":[{"ad":{"id":1}}`},
		{"data a list", fastAdQueryDecoder, `[]`},
		{"data null", fastAdDetailDecoder, `null`},
		{"trailing bytes", fastAdQueryDecoder, `{} {}`},
		{"no-break space before the object", fastAdQueryDecoder, "\u00a0{}"},
		{"deep unknown value", fastAdQueryDecoder, `{"x":` + deep + `}`},
		{"bad country key", fastReportDecoder, `{"count_time_series_by_country":{"Italy":[]}}`},
		{"bad report entry", fastReportDecoder, `{"count_time_series_by_country":{"IT":[{"date":"20240109","count":-2}]}}`},
		{"advertiser without id", fastAdvertiserDecoder, `{"advertisers":[{"business_name":"No Id Co."}]}`},
		{"content id with a space", fastContentDecoder, `{"commercial_contents":[{"id":"12 34"}]}`},
		{"flag that is no boolean", fastAdDetailDecoder, `{"ad_group":{"target":{"age":{"18-24":"maybe"}}}}`},
		{"string status code", fastEnvelopeDecoder, `{"error":{"http_status_code":"200"}}`},
		{"float status code", fastEnvelopeDecoder, `{"error":{"http_status_code":200.0}}`},
		{"numeric error code", fastEnvelopeDecoder, `{"error":{"code":5}}`},
		{"error a list", fastEnvelopeDecoder, `{"error":[]}`},
		{"envelope not an object", fastEnvelopeDecoder, `null`},
		{"html", fastEnvelopeDecoder, `<html>504 Gateway Time-out</html>`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if differ(t, tc.d, []byte(tc.in)) {
				t.Fatalf("%s: the fast path answered", tc.d.name)
			}
			got, err := tc.d.public([]byte(tc.in))
			want, werr := tc.d.slow([]byte(tc.in))
			if strings.HasPrefix(tc.name, "by-country") {
				return
			}
			if !reflect.DeepEqual(got, want) || errText(err) != errText(werr) {
				t.Fatalf("%s: %+v, %v; the slow path gives %+v, %v", tc.d.name, got, err, want, werr)
			}
		})
	}
}

// TestFastKeys: the keys each fast reader knows are the keys of the type the
// slow path decodes, so that none is skipped as unknown (or, in another
// case, taken for a known one) where encoding/json would read it.
func TestFastKeys(t *testing.T) {
	creator := reflect.TypeFor[contentWire]()
	f, _ := creator.FieldByName("Creator")
	for _, tc := range []struct {
		keys []string
		typ  reflect.Type
	}{
		{envelopeKeys, reflect.TypeFor[Envelope]()},
		{errorKeys, reflect.TypeFor[ErrorStruct]()},
		{adQueryKeys, reflect.TypeFor[AdQueryData]()},
		{contentPageKeys, reflect.TypeFor[CommercialContentData]()},
		{advertisersKeys, reflect.TypeFor[AdvertiserQueryData]()},
		{reportKeys, reflect.TypeFor[ReportData]()},
		{adDTOKeys, reflect.TypeFor[AdDTO]()},
		{adKeys, reflect.TypeFor[adWire]()},
		{videoKeys, reflect.TypeFor[videoWire]()},
		{reachKeys, reflect.TypeFor[reachWire]()},
		{rejectionKeys, reflect.TypeFor[rejectionWire]()},
		{advertiserKeys, reflect.TypeFor[advertiserWire]()},
		{accountKeys, reflect.TypeFor[accountWire]()},
		{detailKeys, reflect.TypeFor[AdDetailData]()},
		{adGroupKeys, reflect.TypeFor[adGroupWire]()},
		{targetingKeys, reflect.TypeFor[targetingWire]()},
		{dateCountKeys, reflect.TypeFor[dateCountWire]()},
		{contentKeys, creator},
		{creatorKeys, f.Type.Elem()},
	} {
		want := jsonKeys(tc.typ)
		got := strings.Join(sortedCopy(tc.keys), ",")
		if got != strings.Join(want, ",") {
			t.Errorf("%v: fast path knows %s, encoding/json %s", tc.typ, got, strings.Join(want, ","))
		}
	}
}

func jsonKeys(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && tag == "":
			out = append(out, jsonKeys(f.Type)...)
		case tag == "":
			out = append(out, f.Name)
		default:
			out = append(out, tag)
		}
	}
	return sortedCopy(out)
}

func sortedCopy(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestParseDay: the fast path's day reader agrees with ParseDay on every
// YYYYMMDD and YYYY-MM-DD over years that include the leap-year rules'
// exceptions and months and days one past either end.
func TestParseDay(t *testing.T) {
	years := []int{}
	for y := 0; y <= 2100; y++ {
		years = append(years, y)
	}
	years = append(years, 2400, 9999)
	for _, y := range years {
		for m := 0; m <= 13; m++ {
			for d := 0; d <= 32; d++ {
				for _, s := range []string{fmt.Sprintf("%04d%02d%02d", y, m, d), fmt.Sprintf("%04d-%02d-%02d", y, m, d)} {
					got, ok := parseDay([]byte(s))
					want, err := ParseDay(s)
					if ok != (err == nil) || got != want {
						t.Fatalf("parseDay(%q) = %v, %v; ParseDay = %v, %v", s, got, ok, want, err)
					}
				}
			}
		}
	}
	for _, s := range []string{"", "2021", "2021-0101", "20210101 ", "+0210101", "-0210101", "2021/01/01", "２０２１0101"} {
		if got, ok := parseDay([]byte(s)); ok {
			t.Errorf("parseDay(%q) = %v", s, got)
		}
	}
}

func TestAtoi64(t *testing.T) {
	for _, s := range []string{"", "-", "0", "-0", "7", "007", "+5", "1_000", "999999999999999999", "-999999999999999999",
		"1000000000000000000", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
		"18446744073709551616", "1e3", "1.0", " 1", "١"} {
		got, ok := atoi64([]byte(s))
		want, err := strconv.ParseInt(s, 10, 64)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("atoi64(%q) = %d, %v; ParseInt = %d, %v", s, got, ok, want, err)
		}
	}
}

// benchFast measures one decoder on one fixture, the exported function
// (which takes the fast path here) beside the slow path.
func benchFast(b *testing.B, name string, dec fastDecoder, data bool) {
	in := load(b, name)
	if data {
		env, err := slowEnvelope(in)
		if err != nil {
			b.Fatal(err)
		}
		in = env.Data
	}
	if _, ok := dec.fast(in); !ok {
		b.Fatalf("%s: the fast path does not take %s", dec.name, name)
	}
	for _, run := range []struct {
		name string
		f    func([]byte) (any, error)
	}{{"fast", dec.public}, {"slow", dec.slow}} {
		b.Run(run.name, func(b *testing.B) {
			b.SetBytes(int64(len(in)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := run.f(in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecodeAdQuery decodes a page of 50 ads as a harvest gets it
// (ad_query_realistic.json, from the fake's Realistic profile).
func BenchmarkDecodeAdQuery(b *testing.B) {
	benchFast(b, "ad_query_realistic.json", fastAdQueryDecoder, true)
}

// BenchmarkDecodeEnvelope reads the envelope of that page, which every
// response passes through first.
func BenchmarkDecodeEnvelope(b *testing.B) {
	benchFast(b, "ad_query_realistic.json", fastEnvelopeDecoder, false)
}

func BenchmarkDecodeAdDetail(b *testing.B) {
	benchFast(b, "ad_detail_realistic.json", fastAdDetailDecoder, true)
}

func BenchmarkDecodeCommercialContent(b *testing.B) {
	benchFast(b, "commercial_content_realistic.json", fastContentDecoder, true)
}

func BenchmarkDecodeAdvertiserQuery(b *testing.B) {
	benchFast(b, "advertiser_query_realistic.json", fastAdvertiserDecoder, true)
}

func BenchmarkDecodeAdReport(b *testing.B) {
	benchFast(b, "ad_report_realistic.json", fastReportDecoder, true)
}

// BenchmarkDecodePage is what the crawl does with each ad/query response:
// the envelope, then its data.
func BenchmarkDecodePage(b *testing.B) {
	body := load(b, "ad_query_realistic.json")
	for _, run := range []struct {
		name string
		env  func([]byte) (Envelope, error)
		data func(json.RawMessage) (AdQueryPage, error)
	}{{"fast", DecodeEnvelope, DecodeAdQuery}, {"slow", slowEnvelope, slowAdQuery}} {
		b.Run(run.name, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				env, err := run.env(body)
				if err != nil {
					b.Fatal(err)
				}
				if p, err := run.data(env.Data); err != nil || len(p.Ads) != 50 {
					b.Fatal(len(p.Ads), err)
				}
			}
		})
	}
}
