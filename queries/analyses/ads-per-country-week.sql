-- name: ads-per-country-week
-- description: Ads per country and ISO week in which they were first shown (from ads).
--
-- One row per (country_code, ISO week). country_code is the country the ad was
-- found under; an ad shown in several countries counts once in each. Ads
-- without a first_shown_date are counted in a row whose week is NULL.
SELECT
    country_code,
    printf('%d-W%02d', isoyear(first_shown_date), week(first_shown_date)) AS iso_week,
    CAST(date_trunc('week', first_shown_date) AS DATE) AS week_start,
    count(DISTINCT ad_id) AS ads,
    count(DISTINCT business_id) AS advertisers
FROM ads
GROUP BY ALL
ORDER BY country_code, week_start NULLS LAST;
