-- Per week (starting Monday), summed over every country that has unfiltered
-- reports: the ads ad/report counts against the ads harvested in ads with a
-- first_shown_date in the dates those reports cover. Both count an ad once in
-- every country it was shown in, as ad/report does.
WITH days AS (
    SELECT country_code, date, max(count) AS count,
           min(window_start) AS from_date, max(window_end) AS to_date
    FROM ad_reports
    WHERE len(advertiser_ids) = 0
    GROUP BY country_code, date
), span AS (
    SELECT country_code, min(coalesce(from_date, date)) AS from_date, max(coalesce(to_date, date)) AS to_date
    FROM days
    GROUP BY country_code
), reported AS (
    SELECT CAST(date_trunc('week', date) AS DATE) AS week, CAST(sum(count) AS BIGINT) AS reported
    FROM days
    GROUP BY week
), harvested AS (
    SELECT CAST(date_trunc('week', a.first_shown_date) AS DATE) AS week, count(*) AS harvested
    FROM ads AS a
    JOIN span AS s ON s.country_code = a.country_code
    WHERE a.first_shown_date BETWEEN s.from_date AND s.to_date
    GROUP BY week
)
SELECT coalesce(r.week, h.week) AS week,
       coalesce(r.reported, 0) AS reported,
       coalesce(h.harvested, 0) AS harvested
FROM reported AS r
FULL OUTER JOIN harvested AS h ON h.week = r.week
ORDER BY week
