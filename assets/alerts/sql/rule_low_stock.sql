-- Low stock: what an ordinary order cannot fix any more: a stockout before an order placed
-- today could arrive, or nothing left now (critical when ATS is 0 or the stockout is within
-- $low_stock_critical_days), losing at least $low_stock_min_value of margin. A SKU merely
-- below its reorder point gets a replenishment suggestion, and a stockout more than a week
-- away that another location's spare stock covers gets a transfer: neither is an alert.
-- value_base is the margin the stockout loses.
INSERT INTO alerts_raised BY NAME
WITH stock_now AS (
    SELECT p.*,
           coalesce(a.ats_units, greatest(p.on_hand_units - p.allocated_units, 0)) AS ats,
           -- NULL when no stockout is projected (greatest() would turn NULL into 0)
           CASE WHEN coalesce(a.ats_units,
                              greatest(p.on_hand_units - p.allocated_units, 0)) = 0 THEN 0
                WHEN p.projected_stockout_date IS NOT NULL
                THEN greatest(p.projected_stockout_date - d.as_of, 0) END
               AS days_to_stockout
    FROM marts.replenishment_policy AS p
    CROSS JOIN alert_day AS d
    LEFT JOIN marts.ats_by_sku_location AS a
      ON a.sku = p.sku AND a.location_id = p.location_id AND NOT a.is_bundle
),
sales_at_risk AS (
    SELECT p.*,
           -- demand between the stockout and the arrival of an order placed today
           p.mean_daily_demand_units
               * greatest(ceil(coalesce(p.lead_time_mean_days, 0)) - p.days_to_stockout, 0)
               AS lost_units,
           -- margin of a lost sale; without a selling price, at least its cost
           CASE WHEN sp.unit_price_base IS NOT NULL
                THEN greatest(sp.unit_price_base - coalesce(p.unit_cost_base, 0), 0)
                ELSE coalesce(p.unit_cost_base, 0) END AS unit_margin,
           -- units other locations hold above their own reorder points: what a transfer can
           -- bring (the replenishment step suggests transfers before purchases)
           sum(greatest(p.ats - ceil(coalesce(p.reorder_point_units, 0)), 0))
               OVER (PARTITION BY p.sku)
               - greatest(p.ats - ceil(coalesce(p.reorder_point_units, 0)), 0)
               AS spare_elsewhere
    FROM stock_now AS p
    LEFT JOIN alert_selling_price AS sp ON sp.sku = p.sku
    WHERE p.mean_daily_demand_units > 0
)
SELECT 'low_stock' AS alert_type,
       'low_stock:' || p.sku || ':' || p.location_id AS alert_key,
       CASE WHEN ats = 0 OR days_to_stockout <= $low_stock_critical_days
            THEN 'critical' ELSE 'warning' END AS severity,
       p.sku || ' at ' || p.location_id AS subject, p.sku, p.location_id, p.supplier_id,
       'days_to_stockout' AS metric, days_to_stockout AS metric_value,
       ceil(coalesce(p.lead_time_mean_days, 0)) AS threshold,
       ceil(lost_units)::BIGINT AS units,
       lost_units * unit_margin AS value, $base_currency AS currency,
       lost_units * unit_margin AS value_base,
       format('{} at {}: ATS {} units, {} on order; ', p.sku, p.location_id, ats,
              coalesce(p.on_order_units, 0))
       || CASE WHEN ats = 0 THEN 'out of stock now'
               ELSE format('projected stockout {} (in {} days)', p.projected_stockout_date,
                           days_to_stockout) END
       || format(', before an order placed today could arrive (lead time {:.0f} days): about '
                 '{:.0f} units of sales lost, {:,.2f} {} of margin',
                 coalesce(p.lead_time_mean_days, 0), lost_units, lost_units * unit_margin,
                 $base_currency) AS message
FROM sales_at_risk AS p
WHERE days_to_stockout < ceil(coalesce(p.lead_time_mean_days, 0))
  AND lost_units * unit_margin >= $low_stock_min_value  -- worth a person's time
  -- beyond a week away, stock spare at another location is the fix, by a routine transfer
  AND NOT (days_to_stockout > $low_stock_critical_days AND spare_elsewhere >= lost_units)
