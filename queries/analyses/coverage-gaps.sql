-- name: coverage-gaps
-- description: Every slice of the harvest that is not verified complete: short, cut off, unverified, provisional or pending (from coverage).
--
-- One row per slice of the coverage table whose status is not 'complete',
-- the most serious first: short (fewer items than ad/report counts, beyond a
-- small tolerance), empty_pages (ended on the empty-page guard), capped
-- (ended on the page bound), pending (not harvested yet), provisional (recent
-- days, harvested again by the next run), unverified (no exact report counts
-- it: a search term, ALL countries, commercial content). missing is
-- reported - harvested when a report counts the slice, else NULL; reason is
-- the harvest's own note (for example why a slice was queried again).
SELECT
    dataset,
    country_code,
    window_start,
    window_end,
    search_term,
    status,
    reported,
    harvested,
    reported - harvested AS missing,
    pages,
    requests,
    reason,
    slice_id
FROM coverage
WHERE status <> 'complete'
ORDER BY list_position(['short', 'empty_pages', 'capped', 'pending', 'provisional', 'unverified'], status) NULLS LAST,
         status, dataset, country_code, window_start NULLS LAST, search_term, slice_id;
