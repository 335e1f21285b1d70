-- ad_detail_reach_by_country: long table of ad/detail's
-- reach.unique_users_seen_by_country, one row per (ad_id, country_code).

-- Every row ever fetched, from every committed file.
CREATE OR REPLACE VIEW ad_detail_reach_by_country_all AS
SELECT *
FROM {{source "ad_detail_reach_by_country"}};

-- One row per key: the most recently fetched version.
CREATE OR REPLACE VIEW ad_detail_reach_by_country AS
SELECT *
FROM ad_detail_reach_by_country_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "ad_detail_reach_by_country"}}
    ORDER BY fetched_at DESC, run_id DESC, shard_id DESC
) = 1;
