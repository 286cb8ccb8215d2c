-- One row per snapshot day x location: the share (0..1) of reconciled SKU-locations within
-- tolerance, all and physically counted only, and the differences in units and base currency.
CREATE OR REPLACE TABLE marts.inventory_record_accuracy AS
SELECT snapshot_date, location_id,
       count(*) AS sku_locations,
       count(*) FILTER (WHERE within_tolerance) AS within_tolerance,
       count(*) FILTER (WHERE within_tolerance) / count(*) AS accuracy,
       count(*) FILTER (WHERE counted) AS counted_sku_locations,
       count(*) FILTER (WHERE counted AND within_tolerance)
           / nullif(count(*) FILTER (WHERE counted), 0) AS counted_accuracy,
       sum(abs(difference_units))::BIGINT AS abs_difference_units,
       sum(abs(difference_value_base)) AS abs_difference_value_base,
       sum(difference_value_base) AS net_difference_value_base
FROM marts.reconciliation
GROUP BY snapshot_date, location_id
ORDER BY snapshot_date, location_id
