-- media: the archive of creatives, one row per distinct creative URL that ads,
-- ad_details and commercial_content link to and that `adharvest media` (or a
-- harvest with the dataset media) has tried. status is ok (the file is kept),
-- expired (the link's signature is stale: 403, or an x-expires in the past),
-- removed (404 or 410: the creative is gone), too_large (above the per-file
-- cap) or failed (tried again by the next run). sha256, bytes and path are
-- NULL unless status is ok; path is relative to the output folder,
-- media/<first two hex digits>/<sha256>[.ext], and the file's name is the
-- SHA-256 of its bytes (`sha256sum` verifies it). A link not tried yet has
-- no row, unless its x-expires is already past (expired, not asked):
-- media_links has them all. run_id is the run that settled the URL. Rewritten
-- whole at the end of every media run (and of every harvest).

-- Every row of the table.
CREATE OR REPLACE VIEW media_all AS
SELECT *
FROM {{source "media"}};

-- One row per URL.
CREATE OR REPLACE VIEW media AS
SELECT *
FROM media_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "media"}}
    ORDER BY fetched_at DESC NULLS LAST
) = 1;
