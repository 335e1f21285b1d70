-- ads: one row per ad found by ad/query in one country. The folder is
-- Hive-partitioned by country_code, which DuckDB reads back as a VARCHAR column.

-- Every row ever fetched, from every committed file, including re-fetches of the
-- same ad by later runs or overlapping search windows.
CREATE OR REPLACE VIEW ads_all AS
SELECT *
FROM {{source "ads"}};

-- One row per (ad_id, country_code): the most recently fetched version.
CREATE OR REPLACE VIEW ads AS
SELECT *
FROM ads_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "ads"}}
    ORDER BY fetched_at DESC, run_id DESC, shard_id DESC
) = 1;
