-- name: brands-by-creators
-- description: Brands in paid partnerships, by number of distinct creators and posts (from commercial_content).
--
-- One row per brand name, as sent (a brand listed twice in one post counts
-- once). posts counts distinct content_id (a post found under two creator
-- countries counts once); countries are the creator countries searched.
WITH brands AS (
    SELECT content_id, country_code, creator_username, unnest(brand_names) AS brand
    FROM commercial_content
)
SELECT
    brand,
    count(DISTINCT creator_username) AS creators,
    count(DISTINCT content_id) AS posts,
    array_to_string(list_sort(list_distinct(list(country_code))), ',') AS countries
FROM brands
GROUP BY brand
ORDER BY creators DESC, posts DESC, brand;
