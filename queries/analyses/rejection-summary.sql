-- name: rejection-summary
-- description: How many detailed ads were rejected, with reasons, and taken down (from ad_details).
--
-- One row (none before any detail). taken_down counts ads whose status is inactive with a status
-- statement (TikTok's wording for a removal).
SELECT count(*) AS detailed,
       count(*) FILTER (WHERE rejected) AS rejected,
       count(*) FILTER (WHERE rejected AND len(rejection_reasons) > 0) AS with_reasons,
       count(*) FILTER (WHERE status = 'inactive' AND status_statement IS NOT NULL) AS taken_down
FROM ad_details
HAVING count(*) > 0;
