-- Order volume, revenue (base currency) and average order value per local order day and
-- channel, over orders (kpi_order_facts). Cancelled lines are not sales; they are counted
-- beside. Revenue = line amounts - order discounts; revenue incl. shipping adds the order's
-- shipping charge. An order whose currency has no FX rate to the base currency has no base
-- revenue: it is counted in orders_unconverted and kept out of the sums (never as 0), and
-- kpi_unconverted_revenue holds its amount in its own currency.
CREATE OR REPLACE TABLE marts.kpi_sales_daily AS
WITH orders AS (
    SELECT order_date, channel_id, is_cancelled, lines, units, lines_cancelled,
           units_cancelled, revenue_base, shipping_amount_base, revenue_incl_shipping_base
    FROM marts.kpi_order_facts
)
SELECT
    order_date,
    channel_id,
    count(*) FILTER (WHERE NOT is_cancelled) AS orders,
    sum(lines)::BIGINT AS lines,
    sum(units)::BIGINT AS units,
    -- NULL (not 0) when no order of the day could be converted
    sum(revenue_base) FILTER (WHERE NOT is_cancelled) AS revenue_base,
    sum(shipping_amount_base) FILTER (WHERE NOT is_cancelled AND revenue_base IS NOT NULL)
        AS shipping_base,
    sum(revenue_incl_shipping_base) FILTER (WHERE NOT is_cancelled)
        AS revenue_incl_shipping_base,
    count(*) FILTER (WHERE NOT is_cancelled AND revenue_base IS NULL) AS orders_unconverted,
    sum(revenue_base) FILTER (WHERE NOT is_cancelled)
        / nullif(count(revenue_base) FILTER (WHERE NOT is_cancelled), 0)
        AS average_order_value_base,
    sum(lines_cancelled)::BIGINT AS lines_cancelled,
    sum(units_cancelled)::BIGINT AS units_cancelled
FROM orders
GROUP BY ALL
ORDER BY order_date, channel_id
