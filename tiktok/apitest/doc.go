// Package apitest is a fake TikTok Commercial Content API (the Ad Library
// research API) served over real HTTP on the loopback interface.
//
// It exists so that the harvester can be tested end to end, and demonstrated,
// without credentials, quota or network: a test starts a [Server], points the
// harvester at [Server.URL], lets it crawl, and compares what lands in Parquet
// with the answer the server's [Universe] says a complete crawl must produce.
// The server is written from the wire format in shared/api (the official
// reference and NOTES.md), independently of the harvester's own decoder, so
// that a decoder bug shows up as a mismatch instead of being mirrored by the
// fake.
//
// What the fake reproduces:
//
//   - the client-credentials token endpoint and Bearer tokens that expire;
//   - the five data endpoints with the {"data":…,"error":{…}} envelope, the
//     dotted ?fields= lists, strict request validation (400 invalid_params);
//   - search_id paging with a fresh opaque search_id on every page, optional
//     search_id expiry, "removed item" holes that make pages short or empty
//     while has_more stays true, and a term whose paging never ends;
//   - the contradictions of the documentation (Options.Quirks): has_more as a
//     string, dates as integers, buisness_id, paid_by, unique_user_seen,
//     ad_videos, target, numeric business names, country names versus codes,
//     a single video object instead of a list;
//   - a daily quota (429 daily_quota_limit_exceeded) and switchable faults:
//     500 internal_error, 429 rate_limit_exceeded with Retry-After, truncated
//     bodies, slow answers and HTML 504 pages.
//
// The synthetic data is deterministic for a seed and generated lazily per
// (country, day), so any date range between 2022-10-01 and 2030 is cheap.
// It is deliberately unpleasant: 19-digit ids above 2^53, unicode, commas,
// quotes, newlines and NUL bytes in names, missing optional objects, takedowns.
//
// Durations (TokenTTL, SearchIDTTL, Latency, RateLimit) are measured on the
// real clock; calendar decisions ("today" for the date-range check, the UTC
// day of the quota, log ids, a Lifecycle, CDN link expiry) use Options.Now so
// that tests can move the calendar.
//
// # Optional behaviours
//
// Everything below is off in the zero Options, which serve exactly what they
// always did (the one visible addition: ad.videos items carry
// cover_image_url, and ad/query and ad/detail accept the newest fields).
// Each exists because a harvester test needs it, and each is backed by ground
// truth in the Universe so that tests compare with exact numbers.
//
//   - Volume (VolumeModel, RealisticVolume): per-country volumes proportional
//     to population, surges of several times the rate in the two weeks
//     before elections, weekends and quiet stretches with no ads at all;
//     Poisson counts per (country, day), still lazy and deterministic, cheap
//     at a million ads a year (BenchmarkVolumePage: about half a millisecond
//     of server time per 50-ad page, half of it JSON). Universe.ExpectedAds
//     is the modelled mean.
//   - Universe.Minimum (MinimumSpec, MinimumCost): the fewest requests a
//     harvest of a job can make, per dataset, from ground truth, with the
//     ad/report counts a planner could have known and the distinct ads. It
//     is reachable: an ideal client spends exactly it.
//   - RateLimit and Latency: a token bucket over the data endpoints that
//     answers 429 rate_limit_exceeded with Retry-After (Stats.Throttled,
//     Server.PeakRequests), and a fixed delay per data request.
//   - The newest fields (NewAdFields: ad.title, ad.external_url,
//     ad.download_url, ad.call_to_action, ad.advertising_objective, plus
//     ad.rejection_info and advertiser.country_code on ad/detail, and
//     cover_image_url on videos items) are served when requested;
//     RejectNewFields (or RejectFields) answers them 400 invalid_params
//     "Invalid parameters: fields: ad.title is not a valid field", as the
//     service does for fields it does not know.
//   - LiveForms: the forms seen live rather than documented: photo ads with
//     videos [] and up to 14 image_urls, image_urls null on video ads, "47K"
//     and "0-1K" per-country reach, "4.9M-5.9M" audiences, "N/A" statements,
//     19-digit paid_for_by ids, a missing first_shown_date.
//   - Lifecycle: with a moving Options.Now, ads exist only from the day after
//     their publication (plus a latency), active ads' last_shown_date grows
//     with today, and some are taken down on a given day. Universe.AdAsOf,
//     AdsAsOf, States and StatusChanges give the state on any day; a search
//     is a snapshot of the moment it began.
//   - CDN: a second loopback server that every media URL points at, with
//     signed links, deterministic bytes (Server.CDNExpect gives status and
//     sha256), expired (403), removed (404/410), slow and large objects, and
//     a record of every request's headers (CDNRequests, CDNLeaks) to prove no
//     credential reaches it.
//   - Planning: ReportMaxDays (ad/report refuses long ranges),
//     ReportFailures (ad/report empty or 500, persistently per filter set, so
//     the harvester plans blind; Server.ReportOutcome), SearchIDsExpireAtReset
//     (search_ids die when the UTC day changes) and ShortPaging (large ad/query
//     results end early, halves are complete; Universe.Paging tells which).
package apitest
