-- advertisers: advertiser/query results, one row per (business_id, search_term).

-- Every row ever fetched, from every committed file.
CREATE OR REPLACE VIEW advertisers_all AS
SELECT *
FROM {{source "advertisers"}};

-- One row per key: the most recently fetched version.
CREATE OR REPLACE VIEW advertisers AS
SELECT *
FROM advertisers_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "advertisers"}}
    ORDER BY fetched_at DESC, run_id DESC, shard_id DESC
) = 1;
