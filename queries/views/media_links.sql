-- media_links: which ad or post links to which creative URL. source_table is
-- ads, ad_details or commercial_content; ad_id (ads, ad_details) or
-- content_id (commercial_content) names the item, country_code the country
-- it was found in (NULL for ad_details, whose rows are not per country);
-- field is where the URL was (video_urls, image_urls, videos.url,
-- videos.cover_image_url, download_url, avatar_url) and kind what it is
-- (video, image, cover, avatar). Join media USING (url) for the file; a URL
-- without a media row has not been tried yet. fetched_at and run_id are those
-- of the newest item row that holds the link. Page links
-- (tiktok.com/@user/video/...) are not files and are not listed. Rewritten
-- whole at the end of every media run (and of every harvest).

-- Every row of the table.
CREATE OR REPLACE VIEW media_links_all AS
SELECT *
FROM {{source "media_links"}};

-- One row per (source_table, ad_id, content_id, country_code, url).
CREATE OR REPLACE VIEW media_links AS
SELECT *
FROM media_links_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "media_links"}}
    ORDER BY fetched_at DESC, run_id DESC, field
) = 1;
