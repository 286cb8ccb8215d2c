-- Order volume, revenue (base currency) and average order value per order day and
-- channel. Cancelled lines are not sales; they are counted beside.
CREATE OR REPLACE TABLE marts.kpi_sales_daily AS
WITH lines AS (
    SELECT order_date, channel_id, order_id, is_cancelled, ordered_units, line_amount_base
    FROM marts.kpi_order_line_facts
)
SELECT
    order_date,
    channel_id,
    count(DISTINCT order_id) FILTER (WHERE NOT is_cancelled) AS orders,
    count(*) FILTER (WHERE NOT is_cancelled) AS lines,
    coalesce(sum(ordered_units) FILTER (WHERE NOT is_cancelled), 0)::BIGINT AS units,
    coalesce(sum(line_amount_base) FILTER (WHERE NOT is_cancelled), 0) AS revenue_base,
    sum(line_amount_base) FILTER (WHERE NOT is_cancelled)
        / nullif(count(DISTINCT order_id) FILTER (WHERE NOT is_cancelled), 0)
        AS average_order_value_base,
    count(*) FILTER (WHERE is_cancelled) AS lines_cancelled,
    coalesce(sum(ordered_units) FILTER (WHERE is_cancelled), 0)::BIGINT AS units_cancelled
FROM lines
GROUP BY ALL
ORDER BY order_date, channel_id
