-- Discrepancy: the latest count outside reconciliation tolerance by $discrepancy_units or
-- $discrepancy_value (critical from $discrepancy_critical_value). value_base is the value of
-- the count break.
INSERT INTO alerts_raised BY NAME
WITH latest_count AS (  -- each SKU-location's latest count: a later count within tolerance clears the alert
    SELECT * FROM marts.reconciliation
    QUALIFY row_number() OVER (PARTITION BY sku, location_id ORDER BY snapshot_date DESC) = 1
)
SELECT 'discrepancy' AS alert_type,
       'discrepancy:' || sku || ':' || location_id AS alert_key,
       CASE WHEN abs(coalesce(difference_value_base, 0)) >= $discrepancy_critical_value
            THEN 'critical' ELSE 'warning' END AS severity,
       sku || ' at ' || location_id AS subject, sku, location_id,
       'difference_units' AS metric, difference_units AS metric_value,
       tolerance_units AS threshold, difference_units AS units,
       difference_value_base AS value, $base_currency AS currency,
       difference_value_base AS value_base,
       format('{} at {}: counted {}, expected {} on {} ({:+d} units, {:,.2f} {}); likely cause: {}',
              sku, location_id, counted_on_hand, expected_on_hand, snapshot_date, difference_units,
              coalesce(difference_value_base, 0), $base_currency, coalesce(likely_cause, 'unknown'))
           AS message
FROM latest_count
WHERE NOT within_tolerance
  AND (abs(difference_units) >= $discrepancy_units
       OR abs(coalesce(difference_value_base, 0)) >= $discrepancy_value)
