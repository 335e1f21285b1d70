-- Rows per table: in the deduplicated view (one row per key) and in the _all
-- view (every fetched row, re-fetches included).
SELECT 'ads' AS table_name, (SELECT count(*) FROM ads) AS rows, (SELECT count(*) FROM ads_all) AS fetched
UNION ALL SELECT 'ad_details', (SELECT count(*) FROM ad_details), (SELECT count(*) FROM ad_details_all)
UNION ALL SELECT 'ad_detail_reach_by_country', (SELECT count(*) FROM ad_detail_reach_by_country), (SELECT count(*) FROM ad_detail_reach_by_country_all)
UNION ALL SELECT 'ad_detail_target_countries', (SELECT count(*) FROM ad_detail_target_countries), (SELECT count(*) FROM ad_detail_target_countries_all)
UNION ALL SELECT 'ad_detail_target_ages', (SELECT count(*) FROM ad_detail_target_ages), (SELECT count(*) FROM ad_detail_target_ages_all)
UNION ALL SELECT 'ad_detail_target_genders', (SELECT count(*) FROM ad_detail_target_genders), (SELECT count(*) FROM ad_detail_target_genders_all)
UNION ALL SELECT 'ad_reports', (SELECT count(*) FROM ad_reports), (SELECT count(*) FROM ad_reports_all)
UNION ALL SELECT 'commercial_content', (SELECT count(*) FROM commercial_content), (SELECT count(*) FROM commercial_content_all)
UNION ALL SELECT 'advertisers', (SELECT count(*) FROM advertisers), (SELECT count(*) FROM advertisers_all)
