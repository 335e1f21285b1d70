-- ad_details: one row per ad from ad/detail: advertiser, account, targeting
-- summary and rejection information.

-- Every row ever fetched, from every committed file.
CREATE OR REPLACE VIEW ad_details_all AS
SELECT *
FROM {{source "ad_details"}};

-- One row per key: the most recently fetched version.
CREATE OR REPLACE VIEW ad_details AS
SELECT *
FROM ad_details_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "ad_details"}}
    ORDER BY fetched_at DESC, run_id DESC, shard_id DESC
) = 1;
