-- name: coverage-by-country
-- description: Slices of the harvest per dataset, country and coverage status, with the items reported and harvested (from coverage).
--
-- One row per dataset ('ads', 'commercial-content'), country_code and status
-- of the coverage table (complete, short, empty_pages, capped, unverified,
-- provisional, pending). slices counts the slices (a dataset, country and
-- window queried as one search_id chain; a search term gets slices of its
-- own). reported sums what ad/report counts in them (NULL when no slice has
-- an exact report), harvested the distinct items they hold (ads × country,
-- or posts). verified is harvested counted at most up to reported, over the
-- complete and short slices: summed over every row, verified / reported is
-- the overall figure manifest.json gives as coverage.verified / .reported.
SELECT
    dataset,
    country_code,
    status,
    count(*) AS slices,
    CAST(sum(reported) AS BIGINT) AS reported,
    CAST(sum(harvested) AS BIGINT) AS harvested,
    CAST(coalesce(sum(least(harvested, reported)) FILTER (WHERE status IN ('complete', 'short') AND reported IS NOT NULL), 0) AS BIGINT) AS verified,
    min(window_start) AS first_day,
    max(window_end) AS last_day
FROM coverage
GROUP BY ALL
ORDER BY dataset, country_code, status;
