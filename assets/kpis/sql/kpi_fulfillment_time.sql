-- Fulfillment time PER ORDER, per local {period}, channel and who fulfils
-- (fulfilled_by): order placed -> its last line shipped (the headline), -> its first line
-- shipped, -> its last line delivered, in hours; median and p90 linearly interpolated
-- (quantile_cont). Non-cancelled orders only. Store orders (counter sales, click-and-collect)
-- are counted but are not shipments: they have no ship time; click-and-collect has a pick-up
-- time. Marketplace-fulfilled orders have their own rows. The daily, weekly and monthly
-- marts are this one statement over a different period column.
CREATE OR REPLACE TABLE marts.{name} AS
WITH live_orders AS (
    SELECT {period}, channel_id, fulfilled_by, is_shipped, hours_to_ship,
           hours_to_first_ship, hours_to_deliver, hours_to_pickup, delivered_late
    FROM marts.kpi_order_facts
    WHERE NOT is_cancelled
)
SELECT
    {period},
    channel_id,
    fulfilled_by,
    count(*) AS orders,
    count(hours_to_ship) AS orders_shipped,
    -- shipped by the channel's word but without a ship time: counted, not timed
    count(*) FILTER (WHERE is_shipped AND hours_to_ship IS NULL AND fulfilled_by <> 'store')
        AS orders_shipped_time_unknown,
    quantile_cont(hours_to_ship, 0.5) AS median_hours_to_ship,
    quantile_cont(hours_to_ship, 0.9) AS p90_hours_to_ship,
    quantile_cont(hours_to_first_ship, 0.5) AS median_hours_to_first_ship,
    quantile_cont(hours_to_first_ship, 0.9) AS p90_hours_to_first_ship,
    count(hours_to_deliver) AS orders_delivered,
    quantile_cont(hours_to_deliver, 0.5) AS median_hours_to_deliver,
    quantile_cont(hours_to_deliver, 0.9) AS p90_hours_to_deliver,
    count(delivered_late) AS orders_delivered_with_promise,
    count(*) FILTER (WHERE delivered_late) AS orders_delivered_late,
    count(*) FILTER (WHERE delivered_late) / nullif(count(delivered_late), 0)
        AS delivered_late_share,
    count(hours_to_pickup) AS orders_picked_up,
    quantile_cont(hours_to_pickup, 0.5) AS median_hours_to_pickup
FROM live_orders
GROUP BY ALL
ORDER BY {period}, channel_id, fulfilled_by
