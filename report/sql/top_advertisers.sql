-- Advertisers by distinct ads, with the range of their ads' reach (unique
-- users seen) and the reach bucket their ads fall in most often.
-- Parameter 1: how many advertisers.
SELECT business_id,
       arg_max(business_name, fetched_at) AS business_name,
       count(DISTINCT ad_id) AS ads,
       count(DISTINCT country_code) AS countries,
       min(reach_lower) AS reach_min,
       max(reach_upper) AS reach_max,
       bool_or(reach_lower IS NOT NULL AND reach_upper IS NULL) AS reach_open,
       mode(reach_text) AS reach_typical,
       min(first_shown_date) AS first_shown,
       max(last_shown_date) AS last_shown
FROM ads
WHERE business_id IS NOT NULL
GROUP BY business_id
ORDER BY ads DESC, business_id
LIMIT ?
