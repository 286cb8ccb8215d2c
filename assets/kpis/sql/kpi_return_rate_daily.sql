-- Return rate per ship day and channel, as a cohort: of the units shipped that day, how many
-- came back (whenever they came back). Units and base-currency value. The latest days are
-- low until their returns arrive.
CREATE OR REPLACE TABLE marts.kpi_return_rate_daily AS
WITH shipped_lines AS (
    SELECT ship_date, channel_id, shipped_units, shipped_value_base,
           returned_units, returned_value_base
    FROM marts.kpi_order_line_facts
    WHERE shipped_units > 0
)
SELECT
    ship_date,
    channel_id,
    sum(shipped_units)::BIGINT AS units_shipped,
    sum(returned_units)::BIGINT AS units_returned,
    sum(returned_units) / sum(shipped_units) AS return_rate_units,
    sum(shipped_value_base) AS value_shipped_base,
    sum(returned_value_base) AS value_returned_base,
    sum(returned_value_base) / nullif(sum(shipped_value_base), 0) AS return_rate_value
FROM shipped_lines
GROUP BY ALL
ORDER BY ship_date, channel_id
