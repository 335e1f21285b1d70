-- name: publication-latency
-- description: How long after an ad's first day this folder first fetched it, per country, for the ads that appeared while it monitored.
--
-- TikTok says an ad appears in its library within 24 hours of its first
-- view. first_shown_date is a day, not a time, so the latency counts from
-- its midnight (UTC) to ads.first_seen_at: the earliest is a day plus the
-- hour of the run, since the API serves a day only once it has ended. Only
-- ads first shown on or after the day before this folder's first fetch
-- count (older ads were in the library before the folder looked): none for
-- a harvest of past days, whose ads were all there before it. One row
-- for all countries together (all_countries true, country_code NULL;
-- an ad shown in two countries counts in each), then one per country:
-- ads, the median, 90th percentile and longest latency in hours, and the
-- share of ads first fetched more than 24 and more than 48 hours after
-- their day began.
WITH start AS (
    SELECT CAST(min(fetched_at) AS DATE) AS day
    FROM ad_observations
    WHERE source = 'ad/query'
),
latency AS (
    SELECT
        a.country_code,
        epoch(a.first_seen_at - CAST(a.first_shown_date AS TIMESTAMPTZ)) / 3600.0 AS hours
    FROM ads a, start
    WHERE a.first_shown_date IS NOT NULL AND a.first_shown_date >= start.day - 1
)
SELECT
    grouping(country_code) = 1 AS all_countries,
    country_code,
    count(*) AS ads,
    round(quantile_cont(hours, 0.5), 1) AS median_hours,
    round(quantile_cont(hours, 0.9), 1) AS p90_hours,
    round(max(hours), 1) AS max_hours,
    avg(CASE WHEN hours > 24 THEN 1.0 ELSE 0.0 END) AS share_over_24h,
    avg(CASE WHEN hours > 48 THEN 1.0 ELSE 0.0 END) AS share_over_48h
FROM latency
GROUP BY GROUPING SETS ((), (country_code))
HAVING count(*) > 0
ORDER BY all_countries DESC, country_code;
