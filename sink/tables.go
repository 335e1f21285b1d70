package sink

import "time"

// Day converts a calendar day to a Parquet DATE (days since 1970-01-01). Dates
// are stored as int32 days because parquet-go writes a time.Time field tagged
// "date" as truncated nanoseconds, which readers show as years far BC.
func Day(t time.Time) *int32 {
	d := int32(t.UTC().Unix() / 86400)
	if t.UTC().Unix() < 0 && t.UTC().Unix()%86400 != 0 {
		d--
	}
	return &d
}

// DayPtr is Day for an optional date.
func DayPtr(t *time.Time) *int32 {
	if t == nil {
		return nil
	}
	return Day(*t)
}

// Provenance is carried by every row of every table: where the row was found and
// when. Country (or query country) is not here because it is the Hive partition
// of the folder the file lives in, and Spark refuses files that repeat a
// partition column inside the data.
type Provenance struct {
	SearchTerm  string    `parquet:"search_term"`
	SearchType  string    `parquet:"search_type"`
	WindowStart *int32    `parquet:"window_start,date,optional"`
	WindowEnd   *int32    `parquet:"window_end,date,optional"`
	FetchedAt   time.Time `parquet:"fetched_at,timestamp(microsecond)"`
	RunID       string    `parquet:"run_id"`
	ShardID     string    `parquet:"shard_id"`
}

// AdFields are what ad/query and ad/detail both say about an ad and its
// advertiser, in the same columns in both tables.
type AdFields struct {
	AdID            int64    `parquet:"ad_id"`
	FirstShownDate  *int32   `parquet:"first_shown_date,date,optional"`
	LastShownDate   *int32   `parquet:"last_shown_date,date,optional"`
	Status          *string  `parquet:"status,optional"`
	StatusStatement *string  `parquet:"status_statement,optional"`
	VideoURLs       []string `parquet:"video_urls,list"`
	ImageURLs       []string `parquet:"image_urls,list"`
	ReachText       *string  `parquet:"reach_text,optional"`
	ReachLower      *int64   `parquet:"reach_lower,optional"`
	ReachUpper      *int64   `parquet:"reach_upper,optional"`
	BusinessID      *int64   `parquet:"business_id,optional"`
	BusinessName    *string  `parquet:"business_name,optional"`
	PaidForBy       *string  `parquet:"paid_for_by,optional"`
	// Videos keeps each of ad.videos whole (its cover image beside its
	// URL); VideoURLs is the convenience list of their URLs.
	Videos []AdVideo `parquet:"videos,list"`
	// The fields the 2026-09 documentation added (api.NewerAdFields): NULL
	// when the service did not send them, or refused to be asked for them
	// (status lists the fields a folder's service refused).
	Title                *string `parquet:"title,optional"`
	ExternalURL          *string `parquet:"external_url,optional"`
	DownloadURL          *string `parquet:"download_url,optional"`
	CallToAction         *string `parquet:"call_to_action,optional"`
	AdvertisingObjective *string `parquet:"advertising_objective,optional"`
}

// AdVideo is one of an ad's videos.
type AdVideo struct {
	URL           *string `parquet:"url,optional"`
	CoverImageURL *string `parquet:"cover_image_url,optional"`
}

// AdRow is one ad found by ad/query in one country (table ads).
type AdRow struct {
	AdFields
	Provenance
}

// AdDetailRow is one ad's details from ad/detail (table ad_details). Lists and
// maps that vary per ad (reach by country, targeted countries, ages, genders)
// live in long child tables keyed by ad_id.
type AdDetailRow struct {
	AdFields
	AdvertiserCountryCode *string  `parquet:"advertiser_country_code,optional"`
	FollowerCount         *int64   `parquet:"follower_count,optional"`
	ProfileURL            *string  `parquet:"profile_url,optional"`
	AvatarURL             *string  `parquet:"avatar_url,optional"`
	HasTargeting          bool     `parquet:"has_targeting"`
	UsersTargetedText     *string  `parquet:"users_targeted_text,optional"`
	UsersTargetedLower    *int64   `parquet:"users_targeted_lower,optional"`
	UsersTargetedUpper    *int64   `parquet:"users_targeted_upper,optional"`
	AudienceTargeting     *string  `parquet:"audience_targeting,optional"`
	VideoInteractions     *string  `parquet:"video_interactions,optional"`
	CreatorInteractions   *string  `parquet:"creator_interactions,optional"`
	Interest              *string  `parquet:"interest,optional"`
	Rejected              bool     `parquet:"rejected"`
	RejectionReasons      []string `parquet:"rejection_reasons,list"`
	// RejectionCountries is affected_countries as sent (names or codes);
	// RejectionCountryCodes is the same list as ISO codes where recognised.
	RejectionCountries    []string `parquet:"rejection_countries,list"`
	RejectionCountryCodes []string `parquet:"rejection_country_codes,list"`
	RejectionSource       *string  `parquet:"rejection_reporting_source,optional"`
	RejectionAutomated    *string  `parquet:"rejection_automated_notice,optional"`
	Provenance
}

// AdReachRow is one country of an ad's reach (table ad_detail_reach_by_country).
type AdReachRow struct {
	AdID        int64  `parquet:"ad_id"`
	CountryCode string `parquet:"country_code"`
	ReachText   string `parquet:"reach_text"`
	ReachLower  *int64 `parquet:"reach_lower,optional"`
	ReachUpper  *int64 `parquet:"reach_upper,optional"`
	Provenance
}

// AdTargetCountryRow is one targeted country (table ad_detail_target_countries).
type AdTargetCountryRow struct {
	AdID        int64  `parquet:"ad_id"`
	CountryCode string `parquet:"country_code"`
	Provenance
}

// AdTargetFlagRow is one age bucket or gender and whether it was targeted
// (tables ad_detail_target_ages and ad_detail_target_genders).
type AdTargetFlagRow struct {
	AdID     int64  `parquet:"ad_id"`
	Value    string `parquet:"value"`
	Targeted bool   `parquet:"targeted"`
	Provenance
}

// AdReportRow is one day's ad count in one country (table ad_reports),
// partitioned by the country the report was asked for (query_country, which is
// ALL when every country was asked at once).
type AdReportRow struct {
	CountryCode   string  `parquet:"country_code"`
	Date          int32   `parquet:"date,date"`
	Count         int64   `parquet:"count"`
	AdvertiserIDs []int64 `parquet:"advertiser_ids,list"`
	Provenance
}

// ContentVideo is one video of a commercial content post.
type ContentVideo struct {
	ID            *int64  `parquet:"id,optional"`
	Status        *string `parquet:"status,optional"`
	URL           *string `parquet:"url,optional"`
	CoverImageURL *string `parquet:"cover_image_url,optional"`
}

// CommercialContentRow is one paid-partnership post found in one creator
// country (table commercial_content, partitioned by country_code).
type CommercialContentRow struct {
	ContentID       string         `parquet:"content_id"`
	CreateDate      *int32         `parquet:"create_date,date,optional"`
	CreateTimestamp *time.Time     `parquet:"create_timestamp,timestamp(millisecond),optional"`
	Label           *string        `parquet:"label,optional"`
	BrandNames      []string       `parquet:"brand_names,list"`
	CreatorUsername *string        `parquet:"creator_username,optional"`
	Videos          []ContentVideo `parquet:"videos,list"`
	VideoURLs       []string       `parquet:"video_urls,list"`
	Provenance
}

// AdvertiserRow is one advertiser found by one search term (table advertisers).
type AdvertiserRow struct {
	BusinessID   int64   `parquet:"business_id"`
	BusinessName *string `parquet:"business_name,optional"`
	CountryCode  *string `parquet:"country_code,optional"`
	Provenance
}

// RejectRow is one item of a response that could not be decoded (table
// rejects): the item as sent (cut at a few KiB), why it was refused, and where
// it came from. The page's other items are stored as usual.
type RejectRow struct {
	Dataset   string `parquet:"dataset"`
	Endpoint  string `parquet:"endpoint"`
	Partition string `parquet:"partition"`
	ItemIndex int32  `parquet:"item_index"`
	ItemJSON  string `parquet:"item_json"`
	Error     string `parquet:"error"`
	LogID     string `parquet:"log_id"`
	Provenance
}

// CoverageRow is one slice of the harvest (table coverage): its dataset,
// country and window, how it was planned, what ad/report counts in it
// (reported, NULL when no report says) against the distinct items the
// harvest found (harvested), and its status: complete, short (fewer than
// reported, beyond a small tolerance), empty_pages (ended on the empty-page
// guard), capped (ended on the page bound), unverified (no exact report),
// provisional (recent days, harvested again by the next run) or pending.
type CoverageRow struct {
	Dataset     string     `parquet:"dataset"`
	CountryCode string     `parquet:"country_code"`
	WindowStart *int32     `parquet:"window_start,date,optional"`
	WindowEnd   *int32     `parquet:"window_end,date,optional"`
	Reported    *int64     `parquet:"reported,optional"`
	Harvested   int64      `parquet:"harvested"`
	Status      string     `parquet:"status"`
	Planned     string     `parquet:"planned"`
	SearchTerm  string     `parquet:"search_term"`
	SliceID     string     `parquet:"slice_id"`
	Pages       int64      `parquet:"pages"`
	Requests    int64      `parquet:"requests"`
	Reason      *string    `parquet:"reason,optional"`
	UpdatedAt   *time.Time `parquet:"updated_at,timestamp(microsecond),optional"`
	// ReadStatus is Status with provisional aside: how complete the latest
	// read of the slice was (complete, short, empty_pages, capped,
	// unverified or pending), which decides whether the statuses it saw are
	// believed (see ad_history).
	ReadStatus string `parquet:"read_status"`
}
