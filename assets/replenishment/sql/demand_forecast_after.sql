-- The demand forecast for the days after $as_of: the columns the policy reads, those of them
-- the table has (a forecast written before level_cv and yearly_ratio existed lacks them).
SELECT COLUMNS(lambda c: c IN ('sku', 'date', 'mean', 'vmr', 'level_cv', 'yearly_ratio'))
FROM marts.demand_forecast
WHERE date > $as_of
ORDER BY sku, date
