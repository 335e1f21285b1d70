-- rejects: items the API sent that adharvest could not decode (an id that is
-- not a 64-bit integer, a date that does not exist, an object where text
-- belongs), one row per item, kept as sent (cut at a few KiB) with the reason.
-- The other items of the same page are in their tables as usual.

-- Every reject ever recorded.
CREATE OR REPLACE VIEW rejects_all AS
SELECT *
FROM {{source "rejects"}};

-- One row per item and slice: a page fetched again (a resumed or provisional
-- slice) records its rejects again; the newest is kept.
CREATE OR REPLACE VIEW rejects AS
SELECT *
FROM rejects_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "rejects"}}
    ORDER BY fetched_at DESC, run_id DESC
) = 1;
