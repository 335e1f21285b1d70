-- name: rejection-reasons
-- description: Rejected ads per rejection reason and affected country (from ad_details).
--
-- Every reason of an ad's rejection_reasons is paired with every code of its
-- rejection_country_codes. country_code is NULL when no affected country was
-- sent or none was recognised as an ISO code (rejection_countries keeps the
-- text as sent); reason is NULL when a rejected ad came with no reason.
WITH rejected AS (
    SELECT
        ad_id,
        CASE WHEN len(rejection_reasons) = 0 THEN [NULL::VARCHAR] ELSE rejection_reasons END AS reasons,
        CASE WHEN len(rejection_country_codes) = 0 THEN [NULL::VARCHAR] ELSE rejection_country_codes END AS codes
    FROM ad_details
    WHERE rejected OR len(rejection_reasons) > 0
),
by_reason AS (
    SELECT ad_id, unnest(reasons) AS reason, codes
    FROM rejected
),
pairs AS (
    SELECT ad_id, reason, unnest(codes) AS country_code
    FROM by_reason
)
SELECT
    country_code,
    reason,
    count(DISTINCT ad_id) AS ads,
    any_value(reason_ads) AS reason_ads
FROM (SELECT *, count(DISTINCT ad_id) OVER (PARTITION BY reason) AS reason_ads FROM pairs)
GROUP BY country_code, reason
ORDER BY country_code NULLS LAST, ads DESC, reason NULLS LAST;
