package apitest

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestNewFields(t *testing.T) {
	s := start(t, Options{Seed: 12})
	c := newClient(t, s)
	u := s.Universe()
	want := u.Ads(AdQuery{Country: "FR", From: day("20240101"), To: day("20240131")})
	fields := "ad.id,ad.videos,ad.title,ad.external_url,ad.download_url,ad.call_to_action,ad.advertising_objective"
	var got []any
	for _, p := range c.pageAll(EndpointAdQuery, fields, adBody("20240101", "20240131", "FR", map[string]any{"max_count": 50}), "ads", 100) {
		got = append(got, p.items...)
	}
	if len(got) != len(want) || len(want) < 20 {
		t.Fatalf("%d ads, want %d", len(got), len(want))
	}
	seen := map[string]bool{}
	for i, it := range got {
		ad, w := obj(obj(it)["ad"]), want[i]
		if ad["title"] != w.Title {
			t.Fatalf("title %q, want %q", ad["title"], w.Title)
		}
		for k, v := range map[string]string{"external_url": w.ExternalURL, "download_url": w.DownloadURL, "call_to_action": w.CallToAction, "advertising_objective": w.AdvertisingObjective} {
			x, ok := ad[k]
			if ok != (v != "") || (ok && x != v) {
				t.Fatalf("%s %v, want %q", k, x, v)
			}
			if ok {
				seen[k] = true
			} else {
				seen["no "+k] = true
			}
		}
		for j, v := range list(ad["videos"]) {
			if obj(v)["cover_image_url"] != w.Videos[j].CoverImageURL || !strings.Contains(w.Videos[j].CoverImageURL, "x-expires=") {
				t.Fatalf("video %v, want %+v", v, w.Videos[j])
			}
			seen["cover"] = true
		}
		if w.Title == "" {
			seen["empty title"] = true
		}
	}
	for _, k := range []string{"external_url", "no external_url", "download_url", "call_to_action", "no call_to_action", "advertising_objective", "cover", "empty title"} {
		if !seen[k] {
			t.Errorf("never saw %s", k)
		}
	}
	// ad/detail: ad.rejection_info and advertiser.country_code are fields of
	// their own there, and only there.
	for _, a := range want {
		r := c.mustOK(EndpointAdDetail, "ad.id,ad.rejection_info,advertiser.country_code,ad.title", map[string]any{"ad_id": a.ID})
		ad, adv := obj(r.data["ad"]), obj(r.data["advertiser"])
		if adv["country_code"] != a.Advertiser.CountryCode || len(adv) != 1 || ad["title"] != a.Title {
			t.Fatalf("detail %v", r.data)
		}
		if _, ok := ad["rejection_info"]; ok != (a.Rejection != nil) {
			t.Fatalf("rejection_info %v, want %v", ad["rejection_info"], a.Rejection)
		}
		if _, ok := ad["status"]; ok {
			t.Fatal("status sent unrequested")
		}
	}
	for _, f := range []string{"advertiser.country_code", "ad.rejection_info"} {
		if r := c.call(EndpointAdQuery, "ad.id,"+f, adBody("20240101", "20240110", "FR", nil)); r.status != 400 || !strings.Contains(r.msg, f) {
			t.Fatalf("%s on ad/query: %d %q", f, r.status, r.msg)
		}
	}
	if got := NewAdFields(); len(got) != 7 || got[0] != "ad.title" {
		t.Fatal(got)
	}
	if len(AdQueryFields()) != len(adQueryFields)+5 || len(AdDetailFields()) != len(adDetailFields)+7 {
		t.Fatal("field lists")
	}
}

func TestRejectNewFields(t *testing.T) {
	s := start(t, Options{Seed: 12, RejectNewFields: true})
	c := newClient(t, s)
	body := adBody("20240101", "20240110", "FR", nil)
	for _, f := range []string{"ad.title", "ad.external_url", "ad.download_url", "ad.call_to_action", "ad.advertising_objective"} {
		for _, ep := range []string{EndpointAdQuery, EndpointAdDetail} {
			var b any = body
			if ep == EndpointAdDetail {
				b = map[string]any{"ad_id": 1}
			}
			r := c.call(ep, "ad.id, "+f+",ad.status", b)
			if r.status != 400 || r.code != "invalid_params" || r.msg != "Invalid parameters: fields: "+f+" is not a valid field" {
				t.Fatalf("%s %s: %d %q %q", ep, f, r.status, r.code, r.msg)
			}
		}
	}
	// The first unknown field is named, whichever it is.
	if r := c.call(EndpointAdQuery, "ad.id,ad.bogus,ad.title", body); r.msg != "Invalid parameters: fields: ad.bogus is not a valid field" {
		t.Fatal(r.msg)
	}
	if r := c.call(EndpointAdDetail, "ad.rejection_info", map[string]any{"ad_id": 1}); r.msg != "Invalid parameters: fields: ad.rejection_info is not a valid field" {
		t.Fatal(r.msg)
	}
	// The reference's fields work as ever; videos carry no cover.
	r := c.mustOK(EndpointAdQuery, allAdFields(), adBody("20240101", "20240110", "FR", map[string]any{"max_count": 50}))
	n := 0
	for _, it := range list(r.data["ads"]) {
		for _, v := range list(obj(obj(it)["ad"])["videos"]) {
			n++
			if len(obj(v)) != 1 {
				t.Fatalf("video %v", v)
			}
		}
	}
	if n == 0 {
		t.Fatal("no videos")
	}
	// RejectFields rejects just those.
	s2 := start(t, Options{RejectFields: []string{"ad.title"}})
	c2 := newClient(t, s2)
	if r := c2.call(EndpointAdQuery, "ad.call_to_action,ad.title", body); r.status != 400 || r.msg != "Invalid parameters: fields: ad.title is not a valid field" {
		t.Fatal(r.msg)
	}
	c2.mustOK(EndpointAdQuery, "ad.call_to_action", body)
}

var (
	pointReach = regexp.MustCompile(`^[1-9][0-9]{0,2}K$`)
	audience   = regexp.MustCompile(`^([0-9]+\.[0-9]M-[0-9]+\.[0-9]M|[0-9]+K-[0-9]+K)$`)
)

func TestLiveForms(t *testing.T) {
	s := start(t, Options{Seed: 6, LiveForms: true})
	c := newClient(t, s)
	u := s.Universe()
	from, to := "20240201", "20240207"
	want := u.Ads(AdQuery{From: day(from), To: day(to)})
	var items []map[string]any
	for _, p := range c.pageAll(EndpointAdQuery, allAdFields(), adBody(from, to, "ALL", map[string]any{"max_count": 50}), "ads", 1000) {
		for _, it := range p.items {
			items = append(items, obj(it))
		}
	}
	if len(items) != len(want) {
		t.Fatalf("%d ads, want %d", len(items), len(want))
	}
	seen := map[string]int{}
	for i, it := range items {
		ad, adv, w := obj(it["ad"]), obj(it["advertiser"]), want[i]
		vids := list(ad["videos"])
		imgs, hasImgs := ad["image_urls"]
		switch {
		case len(w.Videos) == 0:
			if vids == nil || len(vids) != 0 || len(list(imgs)) < 1 || len(list(imgs)) > 14 {
				t.Fatalf("photo ad: videos %v, %d images", ad["videos"], len(list(imgs)))
			}
			seen["photo"]++
			if len(list(imgs)) == 14 {
				seen["14 images"]++
			}
		case !hasImgs || imgs != nil:
			t.Fatalf("video ad with image_urls %v", imgs)
		default:
			seen["null images"]++
		}
		_, hasFirst := ad["first_shown_date"]
		if hasFirst == w.FirstShownMissing || ad["last_shown_date"] == nil {
			t.Fatalf("first_shown_date %v, last %v", ad["first_shown_date"], ad["last_shown_date"])
		}
		if !hasFirst {
			seen["no first_shown_date"]++
		}
		if w.Status == "active" {
			if ad["status_statement"] != "N/A" {
				t.Fatalf("active statement %v", ad["status_statement"])
			}
			seen["N/A"]++
		}
		if p := wireText(adv["paid_for_by"]); len(p) == 19 && strings.Trim(p, "0123456789") == "" {
			if p == strconv.FormatInt(wireInt(t, adv["business_id"]), 10) {
				t.Fatal("paid_for_by is the business id")
			}
			seen["numeric paid_for_by"]++
		}
	}
	for _, a := range want[:60] {
		r := c.mustOK(EndpointAdDetail, strings.Join(adDetailFields, ","), map[string]any{"ad_id": a.ID})
		ad := obj(r.data["ad"])
		for cc, v := range obj(obj(ad["reach"])["unique_users_seen_by_country"]) {
			switch s := wireText(v); {
			case s == "0-1K":
				seen["0-1K"]++
			case pointReach.MatchString(s):
				seen["point reach"]++
			default:
				t.Fatalf("reach %s %q", cc, s)
			}
		}
		if n := wireText(obj(obj(r.data["ad_group"])["targeting_info"])["number_of_users_targeted"]); !audience.MatchString(n) {
			t.Fatalf("audience %q", n)
		} else if strings.Contains(n, ".") {
			seen["decimal audience"]++
		}
	}
	for _, k := range []string{"photo", "14 images", "null images", "no first_shown_date", "N/A", "numeric paid_for_by", "0-1K", "point reach", "decimal audience"} {
		if seen[k] == 0 {
			t.Errorf("never saw %s", k)
		}
	}
	t.Logf("%d ads: %v", len(items), seen)
}
