-- the forecast origin: the last day with demand (later snapshot-only days are not zeros)
SELECT max(date) AS as_of
FROM marts.daily_demand_by_sku
WHERE units > 0
