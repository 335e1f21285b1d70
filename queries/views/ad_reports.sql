-- ad_reports: ad/report's count_time_series_by_country, one row per
-- (query_country, country_code, date). The folder is Hive-partitioned by
-- query_country (the country asked for, or ALL).

-- Every row ever fetched, from every committed file.
CREATE OR REPLACE VIEW ad_reports_all AS
SELECT *
FROM {{source "ad_reports"}};

-- One row per key: the most recently fetched version.
CREATE OR REPLACE VIEW ad_reports AS
SELECT *
FROM ad_reports_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "ad_reports"}}
    ORDER BY fetched_at DESC, run_id DESC, shard_id DESC
) = 1;
