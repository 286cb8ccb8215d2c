-- A query, not a table: accuracy per location on the latest snapshot day, worst first.
SELECT snapshot_date, location_id, sku_locations, within_tolerance, accuracy
FROM marts.inventory_record_accuracy
WHERE snapshot_date = (SELECT max(snapshot_date) FROM marts.inventory_record_accuracy)
ORDER BY accuracy, location_id
