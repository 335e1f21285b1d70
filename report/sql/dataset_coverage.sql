-- One row per dataset: how many distinct things it holds, in how many
-- countries, over which dates. Columns that do not apply are NULL.
SELECT 'ads' AS dataset,
       count(DISTINCT ad_id) AS items,
       count(DISTINCT business_id) AS advertisers,
       CAST(NULL AS BIGINT) AS creators,
       CAST(NULL AS BIGINT) AS brands,
       count(DISTINCT country_code) AS countries,
       min(first_shown_date) AS first_date,
       max(first_shown_date) AS last_date
FROM ads
UNION ALL
SELECT 'ad-details', count(DISTINCT ad_id), count(DISTINCT business_id), NULL, NULL,
       count(DISTINCT advertiser_country_code), min(first_shown_date), max(first_shown_date)
FROM ad_details
UNION ALL
SELECT 'ad-reports', CAST(coalesce(sum(count), 0) AS BIGINT), NULL, NULL, NULL,
       count(DISTINCT country_code), min(date), max(date)
FROM ad_reports
UNION ALL
SELECT 'commercial-content', count(DISTINCT content_id), NULL, count(DISTINCT creator_username),
       (SELECT count(DISTINCT brand) FROM commercial_content, unnest(brand_names) AS b(brand)),
       count(DISTINCT country_code), min(create_date), max(create_date)
FROM commercial_content
UNION ALL
SELECT 'advertisers', count(DISTINCT business_id), count(DISTINCT business_id), NULL, NULL,
       count(DISTINCT country_code), NULL, NULL
FROM advertisers
