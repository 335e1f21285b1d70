package api

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// itemShape is one list endpoint as the item fuzzer builds it: an item
// template with one %s slot per field, and the good value of each slot.
type itemShape struct {
	name   string
	page   func(items []string) string
	slots  []string // template with %[1]s = the item's index and one %[2]s where the value goes
	decode func(data json.RawMessage) (good []any, rejects []Reject, err error)
}

var adItemSlots = func() []string {
	names := []string{"ID", "FIRST", "LAST", "STATUS", "STATEMENT", "REACH", "BYC", "VIDEOS", "IMAGES", "TITLE", "BID", "BNAME", "PAID"}
	good := []string{`%[1]s`, `"20240105"`, `20240109`, `"active"`, `"N/A"`, `"10K-100K"`, `{"DE":"47K"}`,
		`[{"url":"https://v","cover_image_url":"https://c"}]`, `null`, `"t"`, `7057157514558702338`, `"Co"`, `"7412345678901234567"`}
	tmpl := `{"ad":{"id":<ID>,"first_shown_date":<FIRST>,"last_shown_date":<LAST>,"status":<STATUS>,"status_statement":<STATEMENT>,` +
		`"reach":{"unique_users_seen":<REACH>,"unique_users_seen_by_country":<BYC>},"videos":<VIDEOS>,"image_urls":<IMAGES>,"title":<TITLE>},` +
		`"advertiser":{"business_id":<BID>,"business_name":<BNAME>,"paid_for_by":<PAID>}}`
	var slots []string
	for slot := range names {
		s := tmpl
		for i, n := range names {
			v := good[i]
			if i == slot {
				v = `%[2]s`
			}
			s = strings.ReplaceAll(s, "<"+n+">", v)
		}
		slots = append(slots, s)
	}
	return slots
}()

func goods[T any](items []T) []any {
	out := make([]any, len(items))
	for i := range items {
		out[i] = items[i]
	}
	return out
}

var itemShapes = []itemShape{
	{
		name: "ad/query",
		page: func(items []string) string {
			return `{"has_more":true,"search_id":"s","ads":[` + strings.Join(items, ",") + `]}`
		},
		slots: adItemSlots,
		decode: func(d json.RawMessage) ([]any, []Reject, error) {
			p, err := DecodeAdQuery(d)
			return goods(p.Ads), p.Rejects, err
		},
	},
	{
		name: "commercial_content/query",
		page: func(items []string) string {
			return `{"has_more":"false","search_id":"s","commercial_contents":[` + strings.Join(items, ",") + `]}`
		},
		slots: []string{
			`{"id":%[2]s,"create_date":"20230109","label":"Paid partnership","creator":{"username":"u"}}`,
			`{"id":"v%[1]s","create_date":%[2]s,"label":"Paid partnership"}`,
			`{"id":"v%[1]s","create_timestamp":%[2]s}`,
			`{"id":"v%[1]s","label":%[2]s}`,
			`{"id":"v%[1]s","brand_names":%[2]s}`,
			`{"id":"v%[1]s","creator":{"username":%[2]s}}`,
			`{"id":"v%[1]s","video":{"id":%[2]s,"url":"https://u"}}`,
			`{"id":"v%[1]s","videos":[{"url":%[2]s}]}`,
		},
		decode: func(d json.RawMessage) ([]any, []Reject, error) {
			p, err := DecodeCommercialContent(d)
			return goods(p.CommercialContents), p.Rejects, err
		},
	},
	{
		name: "advertiser/query",
		page: func(items []string) string { return `{"advertisers":[` + strings.Join(items, ",") + `]}` },
		slots: []string{
			`{"business_id":%[2]s,"business_name":"Co","country_code":"DE"}`,
			`{"business_id":%[1]s,"business_name":%[2]s}`,
			`{"business_id":%[1]s,"country_code":%[2]s}`,
			`{"buisness_id":%[2]s}`,
		},
		decode: func(d json.RawMessage) ([]any, []Reject, error) {
			p, err := DecodeAdvertiserQuery(d)
			return goods(p.Advertisers), p.Rejects, err
		},
	},
	{
		name: "ad/report",
		page: func(items []string) string {
			return `{"count_time_series_by_country":{"IT":[` + strings.Join(items, ",") + `]}}`
		},
		slots: []string{
			`{"date":%[2]s,"count":%[1]s}`,
			`{"date":"20240109","count":%[2]s}`,
		},
		decode: func(d json.RawMessage) ([]any, []Reject, error) {
			p, err := DecodeAdReport(d)
			return goods(p.Series["IT"]), p.Rejects, err
		},
	},
}

// buildItems turns fuzz text into items: each line's first byte picks a slot
// of the shape (or, one past the last slot, makes the rest of the line the
// whole item), and the rest is the value, raw when it is JSON and quoted
// otherwise. Every item is therefore valid JSON, good or bad.
func buildItems(sh itemShape, text string) []string {
	var items []string
	for i, line := range strings.Split(text, "\n") {
		if line == "" {
			continue
		}
		slot, value := int(line[0])%(len(sh.slots)+1), line[1:]
		if !json.Valid([]byte(value)) {
			b, _ := json.Marshal(value)
			value = string(b)
		}
		if slot == len(sh.slots) {
			items = append(items, value)
			continue
		}
		items = append(items, fmt.Sprintf(sh.slots[slot], fmt.Sprint(1000+i), value))
	}
	return items
}

// FuzzPageItems builds pages of random items, good and bad mixed, and checks
// that one bad item never loses its page's good items: the page decodes
// (its page fields are fine), every item is either a good item or a reject,
// and the good items are exactly, in order, the items that decode on their
// own in a page of one. Rejects stay bounded, valid JSON.
func FuzzPageItems(f *testing.F) {
	for _, seed := range []struct {
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
		f.Add(seed.ep, seed.text)
	}
	f.Fuzz(func(t *testing.T, ep uint8, text string) {
		sh := itemShapes[int(ep)%len(itemShapes)]
		items := buildItems(sh, text)
		page := sh.page(items)
		if !json.Valid([]byte(page)) {
			t.Fatalf("built an invalid page: %s", page)
		}
		good, rejects, err := sh.decode(json.RawMessage(page))
		if err != nil {
			t.Fatalf("%s: page with fine page fields failed: %v", sh.name, err)
		}
		alone := []any{}
		for _, it := range items {
			g, r, err := sh.decode(json.RawMessage(sh.page([]string{it})))
			if err != nil || len(g)+len(r) != 1 {
				t.Fatalf("%s: item alone gave %d good, %d rejects, %v: %s", sh.name, len(g), len(r), err, it)
			}
			alone = append(alone, g...)
		}
		if len(good) != len(alone) || len(good)+len(rejects) != len(items) {
			t.Fatalf("%s: %d good + %d rejects of %d items; %d decode alone", sh.name, len(good), len(rejects), len(items), len(alone))
		}
		if !reflect.DeepEqual(good, alone) {
			t.Fatalf("%s: the good items differ from the items decoded alone", sh.name)
		}
		for _, r := range rejects {
			if len(r.Item) > MaxRejectItem || !json.Valid(r.Item) || r.Index < 0 || r.Index >= len(items) {
				t.Fatalf("%s: reject %d out of bounds: %d bytes", sh.name, r.Index, len(r.Item))
			}
		}
		// One item as a whole ad/detail: a reject or a detail, never an error.
		if len(items) > 0 && strings.HasPrefix(items[0], "{") {
			p, err := DecodeAdDetail(json.RawMessage(items[0]))
			if err != nil || p.OK == (p.Reject != nil) {
				t.Fatalf("ad/detail of an object: %+v, %v", p, err)
			}
		}
	})
}
