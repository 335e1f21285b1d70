-- ads: one row per ad found by ad/query in one country. The folder is
-- Hive-partitioned by country_code, which DuckDB reads back as a VARCHAR column.

-- Every row ever fetched, from every committed file, including re-fetches of the
-- same ad by later runs, other search terms or overlapping search windows.
CREATE OR REPLACE VIEW ads_all AS
SELECT *
FROM {{source "ads"}};

-- One row per (ad_id, country_code): the most recently fetched version. Its
-- provenance columns (search_term, shard_id, …) are those of that newest fetch;
-- search_terms and shard_ids list, sorted and without repeats, every term ('' for
-- none) and every shard (one query's slice) the ad was found under in that
-- country, so that "ads found under coffee" is
-- WHERE list_contains(search_terms, 'coffee'), not WHERE search_term = 'coffee'.
CREATE OR REPLACE VIEW ads AS
SELECT
    *,
    list_sort(list_distinct(list(search_term) OVER found)) AS search_terms,
    list_sort(list_distinct(list(shard_id) OVER found)) AS shard_ids
FROM ads_all
WINDOW found AS (PARTITION BY {{key "ads"}})
QUALIFY row_number() OVER (
    PARTITION BY {{key "ads"}}
    ORDER BY fetched_at DESC, run_id DESC, shard_id DESC
) = 1;
