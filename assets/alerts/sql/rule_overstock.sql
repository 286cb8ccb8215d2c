-- Overstock: days of cover above $overstock_warning_days_of_cover and at least
-- $overstock_min_value tied up beyond $overstock_days_of_cover days of demand. value_base is
-- the value the excess ties up.
INSERT INTO alerts_raised BY NAME
WITH excess_stock AS (
    -- excess = on hand beyond what overstock_days_of_cover days of demand need
    SELECT *, greatest(on_hand_units
                       - ceil($overstock_days_of_cover * mean_daily_demand_units), 0)::BIGINT
                  AS excess
    FROM marts.replenishment_policy
    WHERE days_of_cover > $overstock_warning_days_of_cover AND on_hand_units > 0
)
SELECT 'overstock' AS alert_type,
       'overstock:' || sku || ':' || location_id AS alert_key,
       'warning' AS severity,
       sku || ' at ' || location_id AS subject, sku, location_id, supplier_id,
       'days_of_cover' AS metric, days_of_cover AS metric_value,
       $overstock_warning_days_of_cover AS threshold,
       excess AS units, excess * unit_cost_base AS value, $base_currency AS currency,
       excess * unit_cost_base AS value_base,
       format('{} at {}: {:.0f} days of cover, {} units on hand; {} units beyond {:.0f} days of '
              'demand tie up {:,.2f} {}', sku, location_id, days_of_cover, on_hand_units, excess,
              $overstock_days_of_cover, excess * unit_cost_base, $base_currency) AS message
FROM excess_stock
WHERE excess * coalesce(unit_cost_base, 0) >= $overstock_min_value
