-- ad_observations: every fetch of an ad, one row per ad, country and fetch:
-- what the API said of it then (status, status_statement, last_shown_date,
-- reach_text). Three sources: the rows of the ads parts as they are now (each
-- slice's latest fetch), the rows of ads parts that a later fetch of the same
-- slice replaced (its days were still provisional, or its search_id died;
-- kept in the ad_observations folder), and every ad/detail answer
-- (country_code NULL). source says which endpoint answered. coverage says
-- how complete the read of the slice was, provisional days aside: complete,
-- unverified (read to its end, but no exact count to check it against),
-- short, empty_pages, capped or pending; an ad/detail answer is complete.

-- Every observation.
CREATE OR REPLACE VIEW ad_observations_all AS
WITH cov AS (
    -- The coverage of a slice's latest read; a folder written before
    -- read_status existed says only its status, provisional hiding the rest.
    SELECT
        slice_id,
        coalesce(to_json(c) ->> 'read_status', CASE WHEN status <> 'provisional' THEN status END) AS coverage
    FROM coverage AS c
)
SELECT
    ad_id, country_code, 'ad/query' AS source, run_id, fetched_at,
    status, status_statement, first_shown_date, last_shown_date, reach_text,
    coverage, search_term, shard_id
FROM {{source "ad_observations"}}
UNION ALL
SELECT
    a.ad_id, a.country_code, 'ad/query', a.run_id, a.fetched_at,
    a.status, a.status_statement, a.first_shown_date, a.last_shown_date, a.reach_text,
    cov.coverage, a.search_term, a.shard_id
FROM ads_all AS a
LEFT JOIN cov ON cov.slice_id = a.shard_id
UNION ALL
SELECT
    ad_id, CAST(NULL AS VARCHAR), 'ad/detail', run_id, fetched_at,
    status, status_statement, first_shown_date, last_shown_date, reach_text,
    'complete', search_term, shard_id
FROM ad_details_all;

-- One row per (ad_id, country_code, shard_id, fetched_at): a copy that a
-- crash made twice counts once.
CREATE OR REPLACE VIEW ad_observations AS
SELECT *
FROM ad_observations_all
QUALIFY row_number() OVER (
    PARTITION BY ad_id, country_code, shard_id, fetched_at
    ORDER BY run_id DESC, source
) = 1;

-- ad_history: each ad's status over time, one row per state, oldest first:
-- the state its first observation found (previous_status NULL), then every
-- change, with when it was first observed (first_observed_at), by which run,
-- in which country and slice. A state is a status and its status_statement,
-- across all countries (a takedown is the ad's, wherever it was found). A
-- change is believed only from a read that went to its end (coverage
-- complete or unverified, or an ad/detail answer): a takedown is never undone
-- by a later read that was cut short.
CREATE OR REPLACE VIEW ad_history AS
WITH obs AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY ad_id ORDER BY fetched_at, source DESC, country_code, shard_id) AS seq
    FROM ad_observations
    WHERE status IS NOT NULL
),
believed AS (
    SELECT
        *,
        last_value(
            CASE WHEN seq = 1 OR coverage IN ('complete', 'unverified')
                THEN {'status': status, 'status_statement': status_statement} END
            IGNORE NULLS
        ) OVER (PARTITION BY ad_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS state
    FROM obs
),
changes AS (
    SELECT
        *,
        lag(state) OVER (PARTITION BY ad_id ORDER BY seq) AS before
    FROM believed
)
SELECT
    ad_id,
    state.status AS status,
    state.status_statement AS status_statement,
    before.status AS previous_status,
    before.status_statement AS previous_status_statement,
    fetched_at AS first_observed_at,
    run_id,
    country_code,
    source,
    shard_id
FROM changes
WHERE before IS NULL OR before IS DISTINCT FROM state
ORDER BY ad_id, first_observed_at;
