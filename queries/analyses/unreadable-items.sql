-- name: unreadable-items
-- description: Items the API sent that could not be decoded, per dataset, endpoint and partition, with an example error (from rejects).
--
-- One row per dataset, endpoint and partition (the country, or query country,
-- of the request). items counts the rejected items (each once, however often
-- its page was fetched); errors counts their distinct error messages, and
-- example_error is the first of them in sort order. These items are in no
-- other table: rejects keeps each as sent (item_json) with its error.
SELECT
    dataset,
    endpoint,
    partition,
    count(*) AS items,
    count(DISTINCT error) AS errors,
    min(error) AS example_error
FROM rejects
GROUP BY ALL
ORDER BY dataset, endpoint, partition;
