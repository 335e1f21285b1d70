-- Rejection reasons by the number of ads they were given for, with the
-- countries those ads were rejected in. Parameter 1: how many reasons.
SELECT trim(reason) AS reason,
       count(DISTINCT ad_id) AS ads,
       list_sort(list_distinct(flatten(list(rejection_country_codes)))) AS countries
FROM ad_details, unnest(rejection_reasons) AS r(reason)
WHERE rejected AND trim(reason) <> ''
GROUP BY ALL
ORDER BY ads DESC, reason
LIMIT ?
