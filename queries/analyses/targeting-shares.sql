-- name: targeting-shares
-- description: Share of ads targeting each age bucket and each gender (from ad_detail_target_ages and _genders).
--
-- One row per dimension ('age' or 'gender') and value. ads_with_dimension is
-- the number of ads whose targeting lists that dimension at all; share is
-- ads_targeted / ads_with_dimension, rounded to 4 decimals. Buckets an ad's
-- targeting does not mention count as not targeted.
WITH flags AS (
    SELECT 'age' AS dimension, ad_id, value, targeted FROM ad_detail_target_ages
    UNION ALL
    SELECT 'gender' AS dimension, ad_id, value, targeted FROM ad_detail_target_genders
),
per_dimension AS (
    SELECT dimension, count(DISTINCT ad_id) AS ads_with_dimension
    FROM flags
    GROUP BY dimension
)
SELECT
    f.dimension,
    f.value,
    count(DISTINCT f.ad_id) FILTER (WHERE f.targeted) AS ads_targeted,
    count(DISTINCT f.ad_id) FILTER (WHERE NOT f.targeted) AS ads_not_targeted,
    d.ads_with_dimension,
    round(count(DISTINCT f.ad_id) FILTER (WHERE f.targeted) / d.ads_with_dimension, 4) AS share
FROM flags AS f
JOIN per_dimension AS d USING (dimension)
GROUP BY f.dimension, f.value, d.ads_with_dimension
ORDER BY f.dimension, f.value;
