-- Ads per country per week of first_shown_date (weeks start on Monday).
SELECT country_code,
       CAST(date_trunc('week', first_shown_date) AS DATE) AS week,
       count(DISTINCT ad_id) AS ads
FROM ads
WHERE first_shown_date IS NOT NULL
GROUP BY ALL
ORDER BY week, country_code
