-- the censored SKU-days from $start to $as_of
SELECT sku, date, stockout
FROM marts.daily_demand_by_sku
WHERE stockout AND date BETWEEN $start AND $as_of
