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
// Durations (TokenTTL, SearchIDTTL) are measured on the real clock; calendar
// decisions ("today" for the date-range check, the UTC day of the quota, log
// ids) use Options.Now so that tests can move the calendar.
package apitest
