-- name: monitoring-daily
-- description: Per day (UTC): ads first shown, ads this folder fetched for the first time, takedowns it observed, and whether the day is still provisional.
--
-- One row per day that has any of them. published counts distinct ads
-- (in any country) whose first_shown_date is the day; first_seen those whose
-- first fetch by this folder (ads.first_seen_at) was that day, and
-- inactive_on_arrival those of them already inactive then; takedowns counts
-- the changes from active to inactive in ad_history first observed that day
-- (believed only from reads that went to their end). provisional is set on
-- the days of a slice still provisional (too recent when it was fetched: the
-- next run fetches it again, and its counts may still grow).
WITH first AS (
    SELECT ad_id, min(first_seen_at) AS seen_at, min(first_shown_date) AS shown
    FROM ads
    GROUP BY ad_id
),
arrival AS (
    SELECT ad_id, status
    FROM ad_history
    WHERE previous_status IS NULL
),
events AS (
    SELECT shown AS day, 'published' AS what, ad_id FROM first WHERE shown IS NOT NULL
    UNION ALL
    SELECT CAST(seen_at AS DATE), 'first_seen', ad_id FROM first
    UNION ALL
    SELECT CAST(f.seen_at AS DATE), 'inactive_on_arrival', f.ad_id
    FROM first f JOIN arrival a USING (ad_id)
    WHERE a.status = 'inactive'
    UNION ALL
    SELECT CAST(first_observed_at AS DATE), 'takedown', ad_id
    FROM ad_history
    WHERE previous_status = 'active' AND status = 'inactive'
    UNION ALL
    SELECT DISTINCT CAST(unnest(generate_series(CAST(window_start AS TIMESTAMP), CAST(window_end AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE), 'provisional', NULL
    FROM coverage
    WHERE status = 'provisional' AND dataset = 'ads' AND window_start IS NOT NULL
)
SELECT
    day,
    count(DISTINCT ad_id) FILTER (WHERE what = 'published') AS published,
    count(DISTINCT ad_id) FILTER (WHERE what = 'first_seen') AS first_seen,
    count(DISTINCT ad_id) FILTER (WHERE what = 'inactive_on_arrival') AS inactive_on_arrival,
    count(*) FILTER (WHERE what = 'takedown') AS takedowns,
    bool_or(what = 'provisional') AS provisional
FROM events
GROUP BY day
ORDER BY day;
