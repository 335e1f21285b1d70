-- ad_detail_target_countries: the countries an ad group targeted
-- (ad_group.targeting_info.country), one row per (ad_id, country_code).

-- Every row ever fetched, from every committed file.
CREATE OR REPLACE VIEW ad_detail_target_countries_all AS
SELECT *
FROM {{source "ad_detail_target_countries"}};

-- One row per key: the most recently fetched version.
CREATE OR REPLACE VIEW ad_detail_target_countries AS
SELECT *
FROM ad_detail_target_countries_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "ad_detail_target_countries"}}
    ORDER BY fetched_at DESC, run_id DESC, shard_id DESC
) = 1;
