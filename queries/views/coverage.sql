-- coverage: the completeness audit, one row per slice of the harvest (a
-- dataset, country and window queried as one search_id chain): what
-- ad/report counts in it (reported, NULL where no report can say) against the
-- distinct items harvested, and its status: complete, short (fewer than
-- reported, beyond a small tolerance), empty_pages (ended on the empty-page
-- guard), capped (ended on the page bound), unverified (no exact report: a
-- search term, ALL countries, commercial content), provisional (recent days,
-- harvested again by the next run) or pending. The harvest rewrites it
-- whole at the end of every run.

-- Every row of the table.
CREATE OR REPLACE VIEW coverage_all AS
SELECT *
FROM {{source "coverage"}};

-- One row per slice.
CREATE OR REPLACE VIEW coverage AS
SELECT *
FROM coverage_all
QUALIFY row_number() OVER (
    PARTITION BY {{key "coverage"}}
    ORDER BY updated_at DESC NULLS LAST
) = 1;
