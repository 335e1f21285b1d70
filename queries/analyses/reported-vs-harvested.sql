-- name: reported-vs-harvested
-- description: Ads TikTok reports (ad_reports) against distinct ads harvested (ads), per country and ISO week, with their ratio.
--
-- The one rule adharvest uses wherever it compares the two (this query, the
-- report, the notebooks):
--   reported_ads  sums ad_reports.count over the week's days for the country,
--                 from reports without an advertiser filter only; for each day
--                 the report asked for that country is used, or, when there is
--                 none, the report asked for ALL countries;
--   harvested_ads counts distinct ads in ads found under the country and first
--                 shown that week (an ad shown in several countries counts
--                 once in each, as ad/report counts it).
-- ratio is harvested_ads / reported_ads (NULL without a report), rounded to 4
-- decimals. Days without ads are absent from reports, so a week with no report
-- row has reported_ads NULL. unfiltered tells whether the country's ads were
-- harvested by at least one query without terms or other filters (shard ids of
-- such queries end in "_all"); when they were not, harvested below reported is
-- expected. Summing the rows of one country gives its totals, and summing the
-- rows of one week over the reported countries gives that week's totals: the
-- report does exactly that.
WITH reports AS (
    SELECT country_code, date, count
    FROM ad_reports
    WHERE len(advertiser_ids) = 0 AND (query_country = country_code OR query_country = 'ALL')
    QUALIFY row_number() OVER (
        PARTITION BY country_code, date
        ORDER BY query_country = 'ALL', query_country
    ) = 1
),
reported AS (
    SELECT
        country_code,
        CAST(date_trunc('week', date) AS DATE) AS week_start,
        CAST(sum(count) AS BIGINT) AS reported_ads,
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
),
shards AS (
    SELECT country_code, bool_or(ends_with(shard_id, '_all')) AS unfiltered
    FROM ads_all
    GROUP BY country_code
)
SELECT
    country_code,
    printf('%d-W%02d', isoyear(week_start), week(week_start)) AS iso_week,
    week_start,
    r.reported_ads,
    coalesce(r.report_days, 0) AS report_days,
    coalesce(h.harvested_ads, 0) AS harvested_ads,
    CASE WHEN r.reported_ads > 0 THEN round(coalesce(h.harvested_ads, 0) / r.reported_ads, 4) END AS ratio,
    coalesce(s.unfiltered, false) AS unfiltered
FROM reported AS r
FULL OUTER JOIN harvested AS h USING (country_code, week_start)
LEFT JOIN shards AS s USING (country_code)
ORDER BY country_code, week_start;
