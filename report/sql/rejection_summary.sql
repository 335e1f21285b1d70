-- How many detailed ads were rejected, and how many were taken down.
SELECT count(*) AS detailed,
       count(*) FILTER (WHERE rejected) AS rejected,
       count(*) FILTER (WHERE rejected AND len(rejection_reasons) > 0) AS with_reasons,
       count(*) FILTER (WHERE status = 'inactive' AND status_statement IS NOT NULL) AS taken_down
FROM ad_details
