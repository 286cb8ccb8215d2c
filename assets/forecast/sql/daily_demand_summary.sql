-- what the daily_demand_by_sku asset reports: one row
SELECT count(DISTINCT sku) FILTER (WHERE units > 0) AS skus_with_demand,
       min(date) AS first_day,
       max(date) AS last_day,
       coalesce(sum(units), 0) AS units,
       coalesce(sum(units_from_bundles), 0) AS units_from_bundles,
       count(*) FILTER (WHERE stockout) AS stockout_sku_days,
       count(*) FILTER (WHERE units > 0 AND stockout) AS stockout_days_with_sales
FROM marts.daily_demand_by_sku
