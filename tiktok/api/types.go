package api

import (
	"encoding/json"
	"fmt"
	"sort"
)

// ErrorStruct is the "error" object of every data response. Code is "ok" on success.
type ErrorStruct struct {
	Code           string `json:"code"`
	Message        string `json:"message"`
	LogID          string `json:"log_id"`
	HTTPStatusCode int    `json:"http_status_code"`
}

// Envelope is the outer shape of every data response. Data stays raw so that each
// endpoint decodes its own payload, and so the exact bytes can be kept on disk.
type Envelope struct {
	Data  json.RawMessage `json:"data"`
	Error ErrorStruct     `json:"error"`
}

// DecodeEnvelope reads a data response body. It fails on anything that is not a
// complete JSON object, which is how truncated bodies and HTML error pages show up.
func DecodeEnvelope(body []byte) (Envelope, error) {
	if env, ok := fastEnvelope(body); ok {
		return env, nil
	}
	return slowEnvelope(body)
}

// slowEnvelope is DecodeEnvelope without the fast path (fast.go): the
// reference the fast path must agree with, and what every error comes from.
func slowEnvelope(body []byte) (Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Envelope{}, fmt.Errorf("response is not a JSON envelope: %w", err)
	}
	return env, nil
}

// TokenResponse is the body of /v2/oauth/token/: a token on success, and the
// OAuth error shape (different from the data endpoints' envelope) on failure.
type TokenResponse struct {
	AccessToken      string `json:"access_token"`
	ExpiresIn        int64  `json:"expires_in"`
	TokenType        string `json:"token_type"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	LogID            string `json:"log_id"`
}

// Page is what a paged endpoint (ad/query, commercial_content/query) returns
// besides its items. HasMore.Set is false when the key was missing.
type Page struct {
	HasMore  Bool   `json:"has_more"`
	SearchID string `json:"search_id"`
}

// AdQueryData is the data of ad/query.
type AdQueryData struct {
	Page
	Ads []AdDTO `json:"ads"`
}

// AdDTO is one ad/query result.
type AdDTO struct {
	Ad         Ad         `json:"ad"`
	Advertiser Advertiser `json:"advertiser"`
}

// Video is an ad or content video. Ads send url and, for most real ads (714 of
// 903 in one sample), cover_image_url beside it; commercial content adds id
// and status.
type Video struct {
	ID            Int64 `json:"id"`
	Status        Text  `json:"status"`
	URL           Text  `json:"url"`
	CoverImageURL Text  `json:"cover_image_url"`
}

type videoWire Video

func (v *Video) UnmarshalJSON(b []byte) error { return decodeObject(b, (*videoWire)(v)) }

// Reach accepts the documented unique_users_seen and the example's unique_user_seen.
type Reach struct {
	UniqueUsersSeen          Text
	UniqueUsersSeenByCountry map[string]string
}

type reachWire struct {
	A  Text            `json:"unique_users_seen"`
	B  Text            `json:"unique_user_seen"`
	BC map[string]Text `json:"unique_users_seen_by_country"`
}

func (r *Reach) UnmarshalJSON(b []byte) error {
	var raw reachWire
	if err := decodeObject(b, &raw); err != nil {
		return err
	}
	r.UniqueUsersSeen = firstText(raw.A, raw.B)
	r.UniqueUsersSeenByCountry = nil
	if len(raw.BC) > 0 {
		r.UniqueUsersSeenByCountry = make(map[string]string, len(raw.BC))
		for k, v := range raw.BC {
			r.UniqueUsersSeenByCountry[Clean(k)] = string(v)
		}
	}
	return nil
}

// RejectionInfo says why an ad was rejected. affected_countries holds names
// ("Austria") or codes ("FR"): both are documented.
type RejectionInfo struct {
	Reasons           Texts `json:"reasons"`
	AffectedCountries Texts `json:"affected_countries"`
	ReportingSource   Text  `json:"reporting_source"`
	AutomatedNotice   Text  `json:"automated_notice"`
}

type rejectionWire RejectionInfo

func (r *RejectionInfo) UnmarshalJSON(b []byte) error {
	return decodeObject(b, (*rejectionWire)(r))
}

// Ad is the ad object of ad/query and ad/detail. Videos accepts both the
// example's "videos" and the detail table's "ad_videos". Title, ExternalURL,
// DownloadURL, CallToAction and AdvertisingObjective are the 2026-09 fields
// (NewerAdFields): empty, so NULL, when the service does not send them.
type Ad struct {
	ID                   Int64
	FirstShownDate       Date
	LastShownDate        Date
	Status               Text
	StatusStatement      Text
	Videos               []Video
	ImageURLs            []string
	Reach                Reach
	RejectionInfo        *RejectionInfo
	Title                Text
	ExternalURL          Text
	DownloadURL          Text
	CallToAction         Text
	AdvertisingObjective Text
}

type adWire struct {
	ID                   Int64          `json:"id"`
	First                Date           `json:"first_shown_date"`
	Last                 Date           `json:"last_shown_date"`
	Status               Text           `json:"status"`
	StatusStatement      Text           `json:"status_statement"`
	Videos               []Video        `json:"videos"`
	AdVideos             []Video        `json:"ad_videos"`
	ImageURLs            Texts          `json:"image_urls"`
	Reach                Reach          `json:"reach"`
	RejectionInfo        *RejectionInfo `json:"rejection_info"`
	Title                Text           `json:"title"`
	ExternalURL          Text           `json:"external_url"`
	DownloadURL          Text           `json:"download_url"`
	CallToAction         Text           `json:"call_to_action"`
	AdvertisingObjective Text           `json:"advertising_objective"`
}

func (a *Ad) UnmarshalJSON(b []byte) error {
	var raw adWire
	if err := decodeObject(b, &raw); err != nil {
		return err
	}
	videos := raw.Videos
	if len(videos) == 0 {
		videos = raw.AdVideos
	}
	*a = Ad{
		ID: raw.ID, FirstShownDate: raw.First, LastShownDate: raw.Last, Status: raw.Status,
		StatusStatement: raw.StatusStatement, Videos: videos, ImageURLs: raw.ImageURLs,
		Reach: raw.Reach, RejectionInfo: raw.RejectionInfo,
		Title: raw.Title, ExternalURL: raw.ExternalURL, DownloadURL: raw.DownloadURL,
		CallToAction: raw.CallToAction, AdvertisingObjective: raw.AdvertisingObjective,
	}
	return nil
}

// VideoURLs returns the non-empty video URLs in order.
func (a Ad) VideoURLs() []string {
	out := make([]string, 0, len(a.Videos))
	for _, v := range a.Videos {
		if v.URL != "" {
			out = append(out, string(v.URL))
		}
	}
	return out
}

// TikTokAccount is the advertiser's public account in ad/detail.
type TikTokAccount struct {
	ProfileURL    Text  `json:"profile_url"`
	AvatarURL     Text  `json:"avatar_url"`
	FollowerCount Int64 `json:"follower_count"`
}

type accountWire TikTokAccount

func (t *TikTokAccount) UnmarshalJSON(b []byte) error {
	return decodeObject(b, (*accountWire)(t))
}

// Advertiser accepts business_id and the docs' buisness_id typo, and paid_for_by
// (the field list, and the live service) as well as paid_by (the examples).
type Advertiser struct {
	BusinessID    Int64
	BusinessName  Text
	CountryCode   Text
	PaidForBy     Text
	TikTokAccount *TikTokAccount
}

type advertiserWire struct {
	ID      Int64          `json:"business_id"`
	Typo    Int64          `json:"buisness_id"`
	Name    Text           `json:"business_name"`
	Country Text           `json:"country_code"`
	PaidFor Text           `json:"paid_for_by"`
	PaidBy  Text           `json:"paid_by"`
	Account *TikTokAccount `json:"tiktok_account"`
}

func (a *Advertiser) UnmarshalJSON(b []byte) error {
	var raw advertiserWire
	if err := decodeObject(b, &raw); err != nil {
		return err
	}
	id := raw.ID
	if !id.Valid {
		id = raw.Typo
	}
	*a = Advertiser{BusinessID: id, BusinessName: raw.Name, CountryCode: raw.Country,
		PaidForBy: firstText(raw.PaidFor, raw.PaidBy), TikTokAccount: raw.Account}
	return nil
}

// AdDetailData is the data of ad/detail.
type AdDetailData struct {
	Ad         Ad         `json:"ad"`
	AdGroup    AdGroup    `json:"ad_group"`
	Advertiser Advertiser `json:"advertiser"`
}

// AdGroup accepts the table's targeting_info and the example's target.
type AdGroup struct {
	Targeting *TargetingInfo
}

type adGroupWire struct {
	A *TargetingInfo `json:"targeting_info"`
	B *TargetingInfo `json:"target"`
}

func (g *AdGroup) UnmarshalJSON(b []byte) error {
	var raw adGroupWire
	if err := decodeObject(b, &raw); err != nil {
		return err
	}
	g.Targeting = raw.A
	if g.Targeting == nil {
		g.Targeting = raw.B
	}
	return nil
}

// TargetingInfo is how an ad group was targeted. The docs' examples swap the
// age and gender maps, so both are decoded as generic key→flag maps and the
// keys themselves say which is which (see Ages and Genders).
type TargetingInfo struct {
	NumberOfUsersTargeted Text            `json:"number_of_users_targeted"`
	Country               Texts           `json:"country"`
	Age                   map[string]Flag `json:"age"`
	Gender                map[string]Flag `json:"gender"`
	AudienceTargeting     Text            `json:"audience_targeting"`
	VideoInteractions     Text            `json:"video_interactions"`
	CreatorInteractions   Text            `json:"creator_interactions"`
	Interest              Text            `json:"interest"`
}

type targetingWire TargetingInfo

func (t *TargetingInfo) UnmarshalJSON(b []byte) error {
	return decodeObject(b, (*targetingWire)(t))
}

// Flag is a targeting flag sent as a boolean or as "true"/"false".
type Flag bool

func (f *Flag) UnmarshalJSON(b []byte) error {
	var v Bool
	if err := v.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("flag %.20s is not a boolean", b)
	}
	*f = Flag(v.V)
	return nil
}

// KeyFlag is one entry of an age or gender map, in key order.
type KeyFlag struct {
	Key     string
	Enabled bool
}

// Ages returns the age-bucket flags wherever the response put them: under "age"
// as documented, or under "gender" as the swapped example does.
func (t TargetingInfo) Ages() []KeyFlag { return pick(t.Age, t.Gender, isAgeKey) }

// Genders returns the gender flags wherever the response put them.
func (t TargetingInfo) Genders() []KeyFlag {
	return pick(t.Gender, t.Age, func(k string) bool { return !isAgeKey(k) })
}

func pick(primary, other map[string]Flag, want func(string) bool) []KeyFlag {
	var out []KeyFlag
	for _, m := range []map[string]Flag{primary, other} {
		for k, v := range m {
			if want(k) {
				out = append(out, KeyFlag{Key: Clean(k), Enabled: bool(v)})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// isAgeKey tells an age bucket ("13-17", "55+") from a gender ("female").
func isAgeKey(k string) bool { return k != "" && k[0] >= '0' && k[0] <= '9' }

// ReportData is the data of ad/report.
type ReportData struct {
	CountTimeSeriesByCountry map[string][]DateCount `json:"count_time_series_by_country"`
}

// DateCount is one day of an ad report.
type DateCount struct {
	Date  Date  `json:"date"`
	Count Int64 `json:"count"`
}

type dateCountWire DateCount

func (d *DateCount) UnmarshalJSON(b []byte) error { return decodeObject(b, (*dateCountWire)(d)) }

// CommercialContentData is the data of commercial_content/query.
type CommercialContentData struct {
	Page
	CommercialContents []CommercialContent `json:"commercial_contents"`
}

// CommercialContent is one paid-partnership post. Its id is a string in practice
// ("v09044g40…") although the table says i64, so Text keeps either. Videos
// accepts the documented single "video" object and the example's "videos" list.
type CommercialContent struct {
	ID              Text
	CreateDate      Date
	CreateTimestamp Int64
	Label           Text
	BrandNames      []string
	Creator         struct{ Username Text }
	Videos          []Video
}

type contentWire struct {
	ID         Text  `json:"id"`
	CreateDate Date  `json:"create_date"`
	CreateTS   Int64 `json:"create_timestamp"`
	Label      Text  `json:"label"`
	BrandNames Texts `json:"brand_names"`
	Creator    *struct {
		Username Text `json:"username"`
	} `json:"creator"`
	Video  *Video  `json:"video"`
	Videos []Video `json:"videos"`
}

func (c *CommercialContent) UnmarshalJSON(b []byte) error {
	var raw contentWire
	if err := decodeObject(b, &raw); err != nil {
		return err
	}
	*c = CommercialContent{ID: raw.ID, CreateDate: raw.CreateDate, CreateTimestamp: raw.CreateTS,
		Label: raw.Label, BrandNames: raw.BrandNames, Videos: raw.Videos}
	if raw.Creator != nil {
		c.Creator.Username = raw.Creator.Username
	}
	if len(c.Videos) == 0 && raw.Video != nil {
		c.Videos = []Video{*raw.Video}
	}
	return nil
}

// AdvertiserQueryData is the data of advertiser/query.
type AdvertiserQueryData struct {
	Advertisers []Advertiser `json:"advertisers"`
}

func firstText(ts ...Text) Text {
	for _, t := range ts {
		if t != "" {
			return t
		}
	}
	return ""
}
