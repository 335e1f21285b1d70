-- Per country: the ads ad/report says were published, against the distinct
-- ads harvested in ads with a first_shown_date inside the dates the reports
-- cover. Only unfiltered reports (no advertiser ids) count; where a country
-- was reported both on its own and under ALL, each day is counted once.
-- unfiltered tells whether the country's ads were harvested by at least one
-- shard without filters (shard ids of unfiltered queries end in "_all");
-- when they were not, only ads matching the job's terms or filters were
-- harvested and a gap is expected.
WITH days AS (
    SELECT country_code, date, max(count) AS count,
           min(window_start) AS from_date, max(window_end) AS to_date
    FROM ad_reports
    WHERE len(advertiser_ids) = 0
    GROUP BY country_code, date
), reported AS (
    SELECT country_code, CAST(sum(count) AS BIGINT) AS reported,
           min(coalesce(from_date, date)) AS from_date, max(coalesce(to_date, date)) AS to_date
    FROM days
    GROUP BY country_code
), harvested AS (
    SELECT a.country_code,
           count(DISTINCT a.ad_id) FILTER (WHERE r.country_code IS NULL OR a.first_shown_date BETWEEN r.from_date AND r.to_date) AS harvested
    FROM ads AS a
    LEFT JOIN reported AS r ON r.country_code = a.country_code
    GROUP BY a.country_code
), shards AS (
    SELECT country_code, bool_or(ends_with(shard_id, '_all')) AS unfiltered
    FROM ads_all
    GROUP BY country_code
)
SELECT coalesce(r.country_code, h.country_code) AS country_code,
       r.reported,
       coalesce(h.harvested, 0) AS harvested,
       coalesce(s.unfiltered, false) AS unfiltered,
       r.from_date,
       r.to_date
FROM reported AS r
FULL OUTER JOIN harvested AS h ON h.country_code = r.country_code
LEFT JOIN shards AS s ON s.country_code = coalesce(r.country_code, h.country_code)
ORDER BY coalesce(r.reported, 0) DESC, harvested DESC, country_code
