-- name: dataset-summary
-- description: One row per dataset: how many distinct things it holds, in how many countries, over which dates.
--
-- items counts distinct ads (ads, ad-details), ads reported (ad-reports: the
-- sum of ad_reports.count, each ad once per country and day it was reported),
-- posts (commercial-content) and advertisers (advertisers). countries are those
-- searched (ads, commercial-content), reported (ad-reports), or the
-- advertisers' own (ad-details, advertisers). Dates are first-shown dates of
-- ads, report dates and post creation dates. without_details, on the ads row,
-- counts the ads that have no row in ad_details yet (owed a detail, or refused
-- by the API: adharvest status tells which). Columns that do not apply are NULL.
-- A dataset without data has no row.
SELECT *
FROM (
    SELECT 'ads' AS dataset,
           count(DISTINCT ad_id) AS items,
           count(DISTINCT business_id) AS advertisers,
           CAST(NULL AS BIGINT) AS creators,
           CAST(NULL AS BIGINT) AS brands,
           count(DISTINCT country_code) AS countries,
           min(first_shown_date) AS first_date,
           max(first_shown_date) AS last_date,
           (SELECT count(DISTINCT a.ad_id) FROM ads AS a ANTI JOIN ad_details AS d ON d.ad_id = a.ad_id) AS without_details
    FROM ads
    UNION ALL
    SELECT 'ad-details', count(DISTINCT ad_id), count(DISTINCT business_id), NULL, NULL,
           count(DISTINCT advertiser_country_code), min(first_shown_date), max(first_shown_date), NULL
    FROM ad_details
    UNION ALL
    SELECT 'ad-reports', CAST(coalesce(sum(count), 0) AS BIGINT), NULL, NULL, NULL,
           count(DISTINCT country_code), min(date), max(date), NULL
    FROM ad_reports
    UNION ALL
    SELECT 'commercial-content', count(DISTINCT content_id), NULL, count(DISTINCT creator_username),
           (SELECT count(DISTINCT brand) FROM commercial_content, unnest(brand_names) AS b(brand)),
           count(DISTINCT country_code), min(create_date), max(create_date), NULL
    FROM commercial_content
    UNION ALL
    SELECT 'advertisers', count(DISTINCT business_id), count(DISTINCT business_id), NULL, NULL,
           count(DISTINCT country_code), NULL, NULL, NULL
    FROM advertisers
)
WHERE items > 0
ORDER BY CASE dataset WHEN 'ads' THEN 1 WHEN 'ad-details' THEN 2 WHEN 'ad-reports' THEN 3
         WHEN 'commercial-content' THEN 4 ELSE 5 END;
