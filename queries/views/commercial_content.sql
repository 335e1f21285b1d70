-- commercial_content: paid-partnership posts from commercial_content/query, one row
-- per (content_id, country_code). Hive-partitioned by the creator country searched.

-- Every row ever fetched, from every committed file.
CREATE OR REPLACE VIEW commercial_content_all AS
SELECT *
FROM {{source "commercial_content"}};

-- One row per key: the most recently fetched version.
CREATE OR REPLACE VIEW commercial_content AS
SELECT *
FROM commercial_content_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "commercial_content"}}
    ORDER BY fetched_at DESC, run_id DESC, shard_id DESC
) = 1;
