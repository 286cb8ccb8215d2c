-- Fulfillment time per order week (ISO week, starting Monday) and channel; same measures
-- as the daily mart, computed over the week's lines (a median of medians would be wrong).
CREATE OR REPLACE TABLE marts.kpi_fulfillment_time_weekly AS
WITH shipped_lines AS (
    SELECT order_week, channel_id, hours_to_ship, hours_to_deliver
    FROM marts.kpi_order_line_facts
    WHERE NOT is_cancelled AND hours_to_ship IS NOT NULL
)
SELECT
    order_week,
    channel_id,
    count(*) AS lines_shipped,
    quantile_cont(hours_to_ship, 0.5) AS median_hours_to_ship,
    quantile_cont(hours_to_ship, 0.9) AS p90_hours_to_ship,
    count(hours_to_deliver) AS lines_delivered,
    quantile_cont(hours_to_deliver, 0.5) AS median_hours_to_deliver,
    quantile_cont(hours_to_deliver, 0.9) AS p90_hours_to_deliver
FROM shipped_lines
GROUP BY ALL
ORDER BY order_week, channel_id
