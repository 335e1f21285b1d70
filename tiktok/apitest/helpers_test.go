package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fixedNow is "today" for most tests.
var fixedNow = time.Date(2024, 6, 15, 12, 0, 0, 0, time.UTC)

func day(s string) time.Time {
	t, err := time.Parse("20060102", s)
	if err != nil {
		panic(err)
	}
	return t
}

func start(t *testing.T, o Options) *Server {
	t.Helper()
	if o.Now == nil {
		o.Now = func() time.Time { return fixedNow }
	}
	s := Start(o)
	t.Cleanup(s.Close)
	return s
}

type client struct {
	t   *testing.T
	s   *Server
	tok string
	hc  *http.Client
}

func newClient(t *testing.T, s *Server) *client {
	t.Helper()
	c := &client{t: t, s: s, hc: &http.Client{Timeout: 10 * time.Second}}
	status, body := c.token(s.opts.ClientKey, s.opts.ClientSecret, "client_credentials")
	if status != 200 {
		t.Fatalf("token: %d %s", status, body)
	}
	var tr struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		TokenType   string `json:"token_type"`
	}
	if err := json.Unmarshal(body, &tr); err != nil {
		t.Fatal(err)
	}
	c.tok = tr.AccessToken
	return c
}

func (c *client) token(key, secret, grant string) (int, []byte) {
	c.t.Helper()
	form := url.Values{}
	if key != "" {
		form.Set("client_key", key)
	}
	if secret != "" {
		form.Set("client_secret", secret)
	}
	if grant != "" {
		form.Set("grant_type", grant)
	}
	resp, err := c.hc.Post(c.s.URL+TokenPath, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

type result struct {
	status int
	header http.Header
	raw    []byte
	data   map[string]any
	code   string
	msg    string
	logID  string
	err    error // transport, read or decode error
	// readErr is set when the body could not be read in full (as opposed to
	// read in full but not decoded).
	readErr bool
}

func (c *client) raw(ctx context.Context, ep, fields, body, auth string) result {
	c.t.Helper()
	u := c.s.URL + DataPathBase + ep + "/"
	if fields != "" {
		u += "?fields=" + url.QueryEscape(fields)
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return result{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, raw: b, err: err, readErr: err != nil}
	if err != nil {
		return r
	}
	var env struct {
		Data  map[string]any `json:"data"`
		Error struct {
			Code           string      `json:"code"`
			Message        string      `json:"message"`
			LogID          string      `json:"log_id"`
			HTTPStatusCode json.Number `json:"http_status_code"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&env); err != nil {
		r.err = err
		return r
	}
	r.data, r.code, r.msg, r.logID = env.Data, env.Error.Code, env.Error.Message, env.Error.LogID
	if env.Error.HTTPStatusCode.String() != strconv.Itoa(resp.StatusCode) {
		c.t.Errorf("%s: http_status_code %s but HTTP %d", ep, env.Error.HTTPStatusCode, resp.StatusCode)
	}
	return r
}

func (c *client) call(ep, fields string, body any) result {
	c.t.Helper()
	var b string
	switch v := body.(type) {
	case string:
		b = v
	default:
		j, err := json.Marshal(v)
		if err != nil {
			c.t.Fatal(err)
		}
		b = string(j)
	}
	return c.raw(context.Background(), ep, fields, b, "Bearer "+c.tok)
}

func (c *client) mustOK(ep, fields string, body any) result {
	c.t.Helper()
	r := c.call(ep, fields, body)
	if r.err != nil || r.status != 200 || r.code != "ok" {
		c.t.Fatalf("%s: status %d code %q msg %q err %v", ep, r.status, r.code, r.msg, r.err)
	}
	return r
}

// ---- an independent, forgiving decoder for the wire forms ----------------

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

// wireInt reads an integer sent as a JSON number (never via float64).
func wireInt(t *testing.T, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("want a JSON number, got %T %v", v, v)
	}
	i, err := strconv.ParseInt(n.String(), 10, 64)
	if err != nil {
		t.Fatalf("not an int64: %s", n)
	}
	return i
}

// wireText reads a string, or a number's literal text.
func wireText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func wireBool(t *testing.T, v any) bool {
	t.Helper()
	switch x := v.(type) {
	case bool:
		return x
	case string:
		b, err := strconv.ParseBool(x)
		if err != nil {
			t.Fatalf("bad bool %q", x)
		}
		return b
	}
	t.Fatalf("bad bool %T %v", v, v)
	return false
}

func firstKey(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if v, ok := m[k]; ok {
			return v
		}
	}
	return nil
}

// wireAd is an ad as decoded from the wire, normalised.
type wireAd struct {
	ID                  int64
	First, Last, Status string
	Statement           string
	Videos, Images      []string
	Reach               string
	HasReach            bool
	BusinessID          int64
	BusinessName        string
	PaidForBy           string
}

func decodeAd(t *testing.T, item map[string]any) wireAd {
	t.Helper()
	ad, adv := obj(item["ad"]), obj(item["advertiser"])
	w := wireAd{
		ID:           wireInt(t, ad["id"]),
		First:        wireText(ad["first_shown_date"]),
		Last:         wireText(ad["last_shown_date"]),
		Status:       wireText(ad["status"]),
		Statement:    wireText(ad["status_statement"]),
		BusinessID:   wireInt(t, firstKey(adv, "business_id", "buisness_id")),
		BusinessName: wireText(adv["business_name"]),
		PaidForBy:    wireText(firstKey(adv, "paid_for_by", "paid_by")),
	}
	for _, v := range list(firstKey(ad, "videos", "ad_videos")) {
		w.Videos = append(w.Videos, wireText(obj(v)["url"]))
	}
	for _, v := range list(ad["image_urls"]) {
		w.Images = append(w.Images, wireText(v))
	}
	if r := obj(ad["reach"]); r != nil {
		w.HasReach = true
		w.Reach = wireText(firstKey(r, "unique_users_seen", "unique_user_seen"))
	}
	return w
}

func expectAd(a Ad) wireAd {
	w := wireAd{
		ID: a.ID, First: DateString(a.FirstShown), Last: DateString(a.LastShown), Status: a.Status,
		Statement: a.StatusStatement, BusinessID: a.Advertiser.BusinessID,
		BusinessName: a.Advertiser.BusinessName, PaidForBy: a.Advertiser.PaidForBy,
	}
	for _, v := range a.Videos {
		w.Videos = append(w.Videos, v.URL)
	}
	w.Images = append(w.Images, a.ImageURLs...)
	if a.Reach != nil {
		w.HasReach, w.Reach = true, a.Reach.UniqueUsersSeen
	}
	return w
}

func allAdFields() string { return strings.Join(adQueryFields, ",") }

func adBody(from, to, country string, extra map[string]any) map[string]any {
	f := map[string]any{"ad_published_date_range": map[string]any{"min": from, "max": to}}
	if country != "" {
		f["country_code"] = country
	}
	b := map[string]any{"filters": f}
	for k, v := range extra {
		if k == "advertiser_business_ids" || k == "unique_users_seen_size_range" {
			f[k] = v
			continue
		}
		b[k] = v
	}
	return b
}

// page is one page of a paging run.
type page struct {
	items    []any
	hasMore  bool
	searchID string
}

// pageAll pages through ad/query or commercial_content/query.
func (c *client) pageAll(ep, fields string, body map[string]any, listKey string, limit int) []page {
	c.t.Helper()
	var pages []page
	seen := map[string]bool{}
	for i := 0; i < limit; i++ {
		r := c.mustOK(ep, fields, body)
		p := page{items: list(r.data[listKey]), hasMore: wireBool(c.t, r.data["has_more"]), searchID: wireText(r.data["search_id"])}
		if p.searchID == "" || seen[p.searchID] {
			c.t.Fatalf("page %d: search_id %q empty or repeated", i, p.searchID)
		}
		seen[p.searchID] = true
		pages = append(pages, p)
		if !p.hasMore {
			return pages
		}
		body["search_id"] = p.searchID
	}
	c.t.Fatalf("paging did not end within %d pages", limit)
	return nil
}
