-- name: field-completeness
-- description: Per dataset, field and country, the share of rows in which the API sent the field, present and non-empty (ads, ad_details, commercial_content).
--
-- What the API withholds. One row per dataset ('ads', 'ad-details',
-- 'commercial-content'), field and country_code: rows is how many rows the
-- field applies to, present how many of them carry it (not NULL, not blank
-- text, not an empty list), share is present / rows rounded to 4 decimals.
-- country_code is the country searched (ads, commercial-content); an ad's
-- details count once under every country the ad was found under in ads
-- (NULL when it is not in ads), so rows of ad-details are ads × country too
-- and the rows of one dataset and field sum over countries.
-- applies_to says which rows a field is counted over: 'all' rows, 'inactive'
-- ads for status_statement (TikTok sends a statement for removed ads), and
-- 'rejected' ads (rejection_info present) for the rejection_* fields.
-- topic groups the fields: 'content' (the creative: videos, images),
-- 'targeting', 'sponsor' (who paid, who advertises: business_*, paid_for_by,
-- advertiser_country_code, brand_names, label), 'reach', 'creator',
-- 'dates and status' and 'rejection'. Fields that are not columns:
-- 'video_urls or image_urls' (either list non-empty), and target_countries,
-- target_ages, target_genders and reach_by_country (the ad has rows in
-- ad_detail_target_countries, _ages, _genders, ad_detail_reach_by_country).
WITH found AS (
    SELECT DISTINCT ad_id, country_code FROM ads
),
shared AS (
    SELECT 'ads' AS dataset, country_code, first_shown_date, last_shown_date, status, status_statement,
           video_urls, image_urls, reach_text, business_id, business_name, paid_for_by
    FROM ads
    UNION ALL
    SELECT 'ad-details', f.country_code, d.first_shown_date, d.last_shown_date, d.status, d.status_statement,
           d.video_urls, d.image_urls, d.reach_text, d.business_id, d.business_name, d.paid_for_by
    FROM ad_details AS d
    LEFT JOIN found AS f USING (ad_id)
),
shared_flags AS (
    SELECT
        dataset,
        country_code,
        first_shown_date IS NOT NULL AS first_shown_date,
        last_shown_date IS NOT NULL AS last_shown_date,
        coalesce(trim(status) <> '', false) AS status,
        CASE WHEN status = 'inactive' THEN coalesce(trim(status_statement) <> '', false) END AS status_statement,
        coalesce(len(video_urls) > 0, false) AS video_urls,
        coalesce(len(image_urls) > 0, false) AS image_urls,
        coalesce(len(video_urls) > 0 OR len(image_urls) > 0, false) AS "video_urls or image_urls",
        coalesce(trim(reach_text) <> '', false) AS reach_text,
        business_id IS NOT NULL AS business_id,
        coalesce(trim(business_name) <> '', false) AS business_name,
        coalesce(trim(paid_for_by) <> '', false) AS paid_for_by
    FROM shared
),
detail_flags AS (
    SELECT
        'ad-details' AS dataset,
        f.country_code,
        coalesce(trim(d.advertiser_country_code) <> '', false) AS advertiser_country_code,
        d.has_targeting,
        coalesce(trim(d.users_targeted_text) <> '', false) AS users_targeted_text,
        coalesce(trim(d.audience_targeting) <> '', false) AS audience_targeting,
        coalesce(trim(d.video_interactions) <> '', false) AS video_interactions,
        coalesce(trim(d.creator_interactions) <> '', false) AS creator_interactions,
        coalesce(trim(d.interest) <> '', false) AS interest,
        d.ad_id IN (SELECT ad_id FROM ad_detail_target_countries) AS target_countries,
        d.ad_id IN (SELECT ad_id FROM ad_detail_target_ages) AS target_ages,
        d.ad_id IN (SELECT ad_id FROM ad_detail_target_genders) AS target_genders,
        d.ad_id IN (SELECT ad_id FROM ad_detail_reach_by_country) AS reach_by_country,
        CASE WHEN d.rejected THEN coalesce(len(d.rejection_reasons) > 0, false) END AS rejection_reasons,
        CASE WHEN d.rejected THEN coalesce(len(d.rejection_countries) > 0, false) END AS rejection_countries,
        CASE WHEN d.rejected THEN coalesce(trim(d.rejection_reporting_source) <> '', false) END AS rejection_reporting_source,
        CASE WHEN d.rejected THEN coalesce(trim(d.rejection_automated_notice) <> '', false) END AS rejection_automated_notice
    FROM ad_details AS d
    LEFT JOIN found AS f USING (ad_id)
),
content_flags AS (
    SELECT
        'commercial-content' AS dataset,
        country_code,
        create_date IS NOT NULL AS create_date,
        create_timestamp IS NOT NULL AS create_timestamp,
        coalesce(trim(label) <> '', false) AS label,
        coalesce(len(brand_names) > 0, false) AS brand_names,
        coalesce(trim(creator_username) <> '', false) AS creator_username,
        coalesce(len(videos) > 0, false) AS videos,
        coalesce(len(video_urls) > 0, false) AS video_urls
    FROM commercial_content
),
-- One row per row and field; UNPIVOT leaves out the NULLs of fields that do
-- not apply to a row.
cells AS (
    SELECT * FROM (UNPIVOT shared_flags ON COLUMNS(* EXCLUDE (dataset, country_code)) INTO NAME field VALUE present)
    UNION ALL
    SELECT * FROM (UNPIVOT detail_flags ON COLUMNS(* EXCLUDE (dataset, country_code)) INTO NAME field VALUE present)
    UNION ALL
    SELECT * FROM (UNPIVOT content_flags ON COLUMNS(* EXCLUDE (dataset, country_code)) INTO NAME field VALUE present)
)
SELECT
    dataset,
    CASE
        WHEN field IN ('video_urls', 'image_urls', 'video_urls or image_urls', 'videos') THEN 'content'
        WHEN field IN ('has_targeting', 'users_targeted_text', 'audience_targeting', 'video_interactions',
                       'creator_interactions', 'interest', 'target_countries', 'target_ages', 'target_genders') THEN 'targeting'
        WHEN field IN ('business_id', 'business_name', 'paid_for_by', 'advertiser_country_code', 'brand_names', 'label') THEN 'sponsor'
        WHEN field IN ('reach_text', 'reach_by_country') THEN 'reach'
        WHEN field = 'creator_username' THEN 'creator'
        WHEN field LIKE 'rejection_%' THEN 'rejection'
        ELSE 'dates and status'
    END AS topic,
    field,
    CASE
        WHEN field = 'status_statement' THEN 'inactive'
        WHEN field LIKE 'rejection_%' THEN 'rejected'
        ELSE 'all'
    END AS applies_to,
    country_code,
    count(*) AS rows,
    count(*) FILTER (WHERE present) AS present,
    round(count(*) FILTER (WHERE present) / count(*), 4) AS share
FROM cells
GROUP BY ALL
ORDER BY dataset, topic, field, country_code NULLS LAST;
