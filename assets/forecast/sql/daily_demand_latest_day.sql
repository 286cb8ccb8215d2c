-- the ten largest SKUs of the last day with demand (the asset's preview)
WITH last_demand_day AS (
    SELECT max(date) AS date FROM marts.daily_demand_by_sku WHERE units > 0
)
SELECT sku, date, units, units_direct, units_from_bundles, order_lines, free_stock_units,
       stockout
FROM marts.daily_demand_by_sku
WHERE date = (SELECT date FROM last_demand_day)
ORDER BY units DESC, sku
LIMIT 10
