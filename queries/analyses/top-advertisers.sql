-- name: top-advertisers
-- description: Advertisers ranked by number of ads and by summed reach (ads, with ad_details where fetched).
--
-- One row per business_id (NULL: ads without an advertiser id). Each ad counts
-- once, however many countries it was found in. Advertiser and reach come from
-- ad_details when the ad's details were fetched, else from ads. reach_upper is
-- NULL for open-ended sizes ("1M+"): open_ended_ads says how many ads the
-- summed upper bound leaves out. reach_typical is the reach text its ads
-- have most often; first_shown and last_shown span its ads' dates.
WITH per_ad AS (
    SELECT
        a.ad_id,
        coalesce(d.business_id, a.business_id) AS business_id,
        coalesce(d.business_name, a.business_name) AS business_name,
        coalesce(d.reach_lower, a.reach_lower) AS reach_lower,
        coalesce(d.reach_upper, a.reach_upper) AS reach_upper,
        coalesce(d.reach_text, a.reach_text) AS reach_text,
        coalesce(d.first_shown_date, a.first_shown_date) AS first_shown_date,
        coalesce(d.last_shown_date, a.last_shown_date) AS last_shown_date,
        d.ad_id IS NOT NULL AS has_details
    FROM ads AS a
    LEFT JOIN ad_details AS d USING (ad_id)
    QUALIFY row_number() OVER (PARTITION BY a.ad_id ORDER BY a.country_code) = 1
),
found_in AS (
    SELECT ad_id, list_sort(list_distinct(list(country_code))) AS countries
    FROM ads
    GROUP BY ad_id
),
per_advertiser AS (
    SELECT
        p.business_id,
        min(p.business_name) AS business_name,
        count(*) AS ads,
        count(*) FILTER (WHERE p.has_details) AS ads_with_details,
        array_to_string(list_sort(list_distinct(flatten(list(f.countries)))), ',') AS countries,
        CAST(sum(p.reach_lower) AS BIGINT) AS reach_lower_sum,
        CAST(sum(p.reach_upper) AS BIGINT) AS reach_upper_sum,
        count(*) FILTER (WHERE p.reach_lower IS NOT NULL AND p.reach_upper IS NULL) AS open_ended_ads,
        mode(p.reach_text) AS reach_typical,
        min(p.first_shown_date) AS first_shown,
        max(p.last_shown_date) AS last_shown
    FROM per_ad AS p
    JOIN found_in AS f USING (ad_id)
    GROUP BY p.business_id
)
SELECT
    rank() OVER (ORDER BY ads DESC) AS rank_by_ads,
    rank() OVER (ORDER BY reach_upper_sum DESC NULLS LAST, reach_lower_sum DESC NULLS LAST) AS rank_by_reach,
    *
FROM per_advertiser
ORDER BY rank_by_ads, rank_by_reach, business_id NULLS LAST;
