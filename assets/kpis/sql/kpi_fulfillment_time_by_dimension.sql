-- Fulfillment time PER LINE (a parcel leaves a location with a carrier) over the whole
-- history, broken down by channel, by who fulfils, by shipping location and by carrier: one
-- row per (dimension, value). The detail behind the per-order headline; store sales have no
-- ship time and are not in it.
CREATE OR REPLACE TABLE marts.kpi_fulfillment_time_by_dimension AS
WITH shipped_lines AS (
    SELECT channel_id, fulfilled_by, location_id, carrier, hours_to_ship, hours_to_deliver
    FROM marts.kpi_order_line_facts
    WHERE NOT is_cancelled AND hours_to_ship IS NOT NULL
),
breakdowns AS (
    SELECT
        CASE WHEN grouping(channel_id) = 0 THEN 'channel'
             WHEN grouping(fulfilled_by) = 0 THEN 'fulfilled_by'
             WHEN grouping(location_id) = 0 THEN 'location'
             ELSE 'carrier' END AS dimension,
        CASE WHEN grouping(channel_id) = 0 THEN channel_id
             WHEN grouping(fulfilled_by) = 0 THEN fulfilled_by
             WHEN grouping(location_id) = 0 THEN location_id
             ELSE carrier END AS value,
        count(*) AS lines_shipped,
        quantile_cont(hours_to_ship, 0.5) AS median_hours_to_ship,
        quantile_cont(hours_to_ship, 0.9) AS p90_hours_to_ship,
        count(hours_to_deliver) AS lines_delivered,
        quantile_cont(hours_to_deliver, 0.5) AS median_hours_to_deliver,
        quantile_cont(hours_to_deliver, 0.9) AS p90_hours_to_deliver
    FROM shipped_lines
    GROUP BY GROUPING SETS ((channel_id), (fulfilled_by), (location_id), (carrier))
)
SELECT dimension, coalesce(value, '(unknown)') AS value, * EXCLUDE (dimension, value)
FROM breakdowns
ORDER BY dimension, value
