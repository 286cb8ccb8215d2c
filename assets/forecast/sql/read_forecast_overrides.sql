-- every override, oldest first: where rows overlap, the last one typed wins
SELECT sku, start_date, end_date, multiplier, quantity, note, created_at, created_by
FROM ops.forecast_overrides
ORDER BY created_at, rowid
