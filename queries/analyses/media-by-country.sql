-- name: media-by-country
-- description: Creatives (videos, images, covers) the tables link to, by how their download ended: all countries together, then per country.
--
-- The first row (all_countries true, country_code NULL) counts every
-- creative once; then one row per country the linking ad or post was found
-- in (an ad's ad_details links count in the countries of its ads rows; NULL
-- when no ads row names the ad), where a creative linked from two countries
-- counts in both. creatives is distinct URLs in media_links, and it is the sum
-- of archived (status ok: the file is kept under media/, named by its
-- SHA-256), expired (the signed link was stale: 403, or an x-expires
-- already past), removed (404 or 410: the creative was taken down),
-- too_large (above the per-file cap), failed (tried again by the next media
-- run) and pending (no media row: never tried, or stored and the file since
-- lost). files and bytes are the distinct stored files of the archived ones.
WITH ad_countries AS (
    SELECT DISTINCT ad_id, country_code
    FROM media_links
    WHERE source_table = 'ads' AND ad_id IS NOT NULL AND country_code IS NOT NULL
),
links AS (
    SELECT DISTINCT l.url, coalesce(l.country_code, a.country_code) AS country_code
    FROM media_links l
    LEFT JOIN ad_countries a ON l.country_code IS NULL AND a.ad_id = l.ad_id
),
per_link AS (
    SELECT l.url, l.country_code, m.status, m.path, m.bytes
    FROM links l
    LEFT JOIN media m USING (url)
),
per_url AS (
    SELECT DISTINCT url, status, path, bytes
    FROM per_link
),
totals AS (
    SELECT
        true AS all_countries,
        NULL::VARCHAR AS country_code,
        count(*) AS creatives,
        count(*) FILTER (WHERE status = 'ok') AS archived,
        count(*) FILTER (WHERE status = 'expired') AS expired,
        count(*) FILTER (WHERE status = 'removed') AS removed,
        count(*) FILTER (WHERE status = 'too_large') AS too_large,
        count(*) FILTER (WHERE status = 'failed') AS failed,
        count(*) FILTER (WHERE status IS NULL) AS pending
    FROM per_url
    HAVING count(*) > 0
),
total_files AS (
    SELECT count(*) AS files, coalesce(sum(bytes), 0) AS bytes
    FROM (SELECT DISTINCT path, bytes FROM per_url WHERE status = 'ok')
),
countries AS (
    SELECT
        false AS all_countries,
        country_code,
        count(*) AS creatives,
        count(*) FILTER (WHERE status = 'ok') AS archived,
        count(*) FILTER (WHERE status = 'expired') AS expired,
        count(*) FILTER (WHERE status = 'removed') AS removed,
        count(*) FILTER (WHERE status = 'too_large') AS too_large,
        count(*) FILTER (WHERE status = 'failed') AS failed,
        count(*) FILTER (WHERE status IS NULL) AS pending
    FROM per_link
    GROUP BY country_code
),
country_files AS (
    SELECT country_code, count(*) AS files, coalesce(sum(bytes), 0) AS bytes
    FROM (SELECT DISTINCT country_code, path, bytes FROM per_link WHERE status = 'ok')
    GROUP BY country_code
)
SELECT t.*, f.files, f.bytes
FROM totals t, total_files f
UNION ALL
SELECT c.*, coalesce(f.files, 0) AS files, coalesce(f.bytes, 0) AS bytes
FROM countries c
LEFT JOIN country_files f ON f.country_code IS NOT DISTINCT FROM c.country_code
ORDER BY all_countries DESC, country_code NULLS LAST;
