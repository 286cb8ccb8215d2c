-- the days with demand from $start to $as_of, plus each SKU's last sale before $start as a
-- 0-unit row: the grid then starts at the window for a SKU that sold before it
WITH sales_in_window AS (
    SELECT sku, date, units
    FROM marts.daily_demand_by_sku
    WHERE units > 0 AND date BETWEEN $start AND $as_of
),
last_sale_before_window AS (
    SELECT sku, max(date) AS date, 0 AS units
    FROM marts.daily_demand_by_sku
    WHERE units > 0 AND date < $start
    GROUP BY sku
)
SELECT sku, date, units FROM sales_in_window
UNION ALL
SELECT sku, date, units FROM last_sale_before_window
