-- ad_detail_target_genders: genders of ad_group.targeting_info.gender, one row per
-- (ad_id, value) with targeted true or false.

-- Every row ever fetched, from every committed file.
CREATE OR REPLACE VIEW ad_detail_target_genders_all AS
SELECT *
FROM {{source "ad_detail_target_genders"}};

-- One row per key: the most recently fetched version.
CREATE OR REPLACE VIEW ad_detail_target_genders AS
SELECT *
FROM ad_detail_target_genders_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "ad_detail_target_genders"}}
    ORDER BY fetched_at DESC, run_id DESC, shard_id DESC
) = 1;
