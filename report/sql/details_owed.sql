-- Ads found by the ads dataset that have no row in ad_details yet: details
-- still owed, or refused by the API for good (adharvest status tells which).
SELECT count(DISTINCT a.ad_id) AS owed
FROM ads AS a
ANTI JOIN ad_details AS d ON d.ad_id = a.ad_id
