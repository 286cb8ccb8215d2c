-- One row per SKU x location: units on hand now (the ledger's last on_hand_units: the latest
-- snapshot plus every movement after it) and the latest snapshot's reserved units.
CREATE OR REPLACE TABLE marts.stock_on_hand AS
WITH latest_by_sku_location AS (
    SELECT sku, location_id,
           arg_max(on_hand_units, day) AS on_hand_units,
           max(day) FILTER (WHERE snapshot_on_hand IS NOT NULL) AS last_snapshot_date,
           -- reserved units are what the latest snapshot reported (a missing value is 0)
           arg_max(coalesce(snapshot_reserved, 0), day)
               FILTER (WHERE snapshot_on_hand IS NOT NULL) AS reserved_units,
           max(day) AS last_ledger_day
    FROM marts.stock_ledger
    GROUP BY sku, location_id
)
SELECT (SELECT max(snapshot_date) FROM core.stock_snapshots) AS as_of,
       sku, location_id, on_hand_units, coalesce(reserved_units, 0)::BIGINT AS reserved_units,
       last_snapshot_date, last_ledger_day
FROM latest_by_sku_location
ORDER BY sku, location_id
