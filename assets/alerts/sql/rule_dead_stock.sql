-- Dead stock: stock with no sale in $no_sale_days worth at least $dead_stock_warning_value.
-- value_base is the value it ties up.
INSERT INTO alerts_raised BY NAME
SELECT 'dead_stock' AS alert_type,
       'dead_stock:' || sku || ':' || location_id AS alert_key,
       'warning' AS severity,
       sku || ' at ' || location_id AS subject, sku, location_id, supplier_id,
       'days_without_sale' AS metric, days_without_sale AS metric_value,
       $no_sale_days AS threshold, on_hand_units AS units,
       dead_stock_value_base AS value, $base_currency AS currency,
       dead_stock_value_base AS value_base,
       format('{} at {}: no sale in {} days (last {}), {} units on hand worth {:,.2f} {}',
              sku, location_id, days_without_sale, coalesce(CAST(last_sold_on AS VARCHAR), 'never'),
              on_hand_units, coalesce(dead_stock_value_base, 0), $base_currency) AS message
FROM marts.kpi_dead_stock_by_sku_location
WHERE days_without_sale >= $no_sale_days
  AND coalesce(dead_stock_value_base, 0) >= $dead_stock_warning_value
