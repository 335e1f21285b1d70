-- name: reported-vs-harvested
-- description: Ads TikTok reports (ad_reports) against distinct ads harvested (ads), per country and ISO week, with their ratio.
--
-- reported_ads sums ad_reports.count over the week's days for the country,
-- taken from the report asked for that country or, when there is none, from
-- the report asked for ALL countries. harvested_ads counts distinct ads in ads
-- found under the country and first shown that week. ratio is
-- harvested_ads / reported_ads (NULL without a report), rounded to 4
-- decimals: below 1 when the harvest used search terms or other filters, or
-- reports were filtered by advertiser. Days without ads are absent from
-- reports, so a week with no report row has reported_ads NULL.
WITH reports AS (
    SELECT country_code, date, count
    FROM ad_reports
    WHERE query_country = country_code OR query_country = 'ALL'
    QUALIFY row_number() OVER (
        PARTITION BY country_code, date
        ORDER BY query_country = 'ALL', query_country
    ) = 1
),
reported AS (
    SELECT
        country_code,
        CAST(date_trunc('week', date) AS DATE) AS week_start,
        sum(count) AS reported_ads,
        count(*) AS report_days
    FROM reports
    GROUP BY ALL
),
harvested AS (
    SELECT
        country_code,
        CAST(date_trunc('week', first_shown_date) AS DATE) AS week_start,
        count(DISTINCT ad_id) AS harvested_ads
    FROM ads
    WHERE first_shown_date IS NOT NULL
    GROUP BY ALL
)
SELECT
    country_code,
    printf('%d-W%02d', isoyear(week_start), week(week_start)) AS iso_week,
    week_start,
    r.reported_ads,
    coalesce(r.report_days, 0) AS report_days,
    coalesce(h.harvested_ads, 0) AS harvested_ads,
    CASE WHEN r.reported_ads > 0 THEN round(coalesce(h.harvested_ads, 0) / r.reported_ads, 4) END AS ratio
FROM reported AS r
FULL OUTER JOIN harvested AS h USING (country_code, week_start)
ORDER BY country_code, week_start;
