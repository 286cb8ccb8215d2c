-- Fulfillment time per order day and channel: order placed -> last parcel shipped, and
-- placed -> delivered, in hours. Median and p90 are linearly interpolated (quantile_cont).
CREATE OR REPLACE TABLE marts.kpi_fulfillment_time_daily AS
WITH shipped_lines AS (
    SELECT order_date, channel_id, hours_to_ship, hours_to_deliver
    FROM marts.kpi_order_line_facts
    WHERE NOT is_cancelled AND hours_to_ship IS NOT NULL
)
SELECT
    order_date,
    channel_id,
    count(*) AS lines_shipped,
    quantile_cont(hours_to_ship, 0.5) AS median_hours_to_ship,
    quantile_cont(hours_to_ship, 0.9) AS p90_hours_to_ship,
    count(hours_to_deliver) AS lines_delivered,
    quantile_cont(hours_to_deliver, 0.5) AS median_hours_to_deliver,
    quantile_cont(hours_to_deliver, 0.9) AS p90_hours_to_deliver
FROM shipped_lines
GROUP BY ALL
ORDER BY order_date, channel_id
