-- Channel mix: each channel's orders, units and revenue (base currency) per local order
-- month, its share of the month's orders and revenue over all channels, and its revenue
-- against its own previous month. Over orders (kpi_order_facts), like kpi_sales_daily:
-- cancelled orders are not sales; revenue = line amounts - order discounts, before shipping.
-- An order without a base amount (no FX rate) is counted in orders_unconverted and left out
-- of revenue and revenue shares (never as 0). A channel without orders in the previous month
-- has no revenue_base_prior_month and no revenue_change (NULL, not a 100 % rise).
CREATE OR REPLACE TABLE marts.kpi_channel_mix_monthly AS
WITH sales_by_channel_month AS (
    SELECT
        order_month,
        channel_id,
        count(*) AS orders,
        sum(units)::BIGINT AS units,
        sum(revenue_base) AS revenue_base,
        count(*) - count(revenue_base) AS orders_unconverted
    FROM marts.kpi_order_facts
    WHERE NOT is_cancelled
    GROUP BY order_month, channel_id
)
SELECT
    this_month.order_month,
    this_month.channel_id,
    this_month.orders,
    this_month.units,
    this_month.revenue_base,
    this_month.orders_unconverted,
    this_month.revenue_base
        / nullif(sum(this_month.revenue_base) OVER (PARTITION BY this_month.order_month), 0)
        AS revenue_share,
    this_month.orders
        / sum(this_month.orders) OVER (PARTITION BY this_month.order_month) AS order_share,
    this_month.revenue_base / nullif(this_month.orders - this_month.orders_unconverted, 0)
        AS average_order_value_base,
    prior_month.revenue_base AS revenue_base_prior_month,
    this_month.revenue_base / nullif(prior_month.revenue_base, 0) - 1 AS revenue_change
FROM sales_by_channel_month AS this_month
LEFT JOIN sales_by_channel_month AS prior_month
    ON prior_month.channel_id = this_month.channel_id
    AND prior_month.order_month = this_month.order_month - INTERVAL 1 MONTH
ORDER BY this_month.order_month, this_month.channel_id
