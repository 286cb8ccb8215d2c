-- Revenue shelfwise could not convert to the base currency, in its own currency, per local
-- order day, channel and currency: orders whose currency has no FX rate to the base
-- currency (no file in inbox/fx_rates/, or base_currency not set to it). Empty when every
-- order converts.
CREATE OR REPLACE TABLE marts.kpi_unconverted_revenue AS
SELECT
    order_date,
    channel_id,
    currency,
    count(*) AS orders,
    sum(revenue) AS revenue,
    sum(revenue_incl_shipping) AS revenue_incl_shipping
FROM marts.kpi_order_facts
WHERE NOT is_cancelled AND revenue_base IS NULL
GROUP BY ALL
ORDER BY order_date, channel_id, currency
