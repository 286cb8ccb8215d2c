-- Fill rate per order day and channel: shipped units over ordered units of the
-- non-cancelled lines that are due (promise passed, or ordered more than the settle days
-- ago when there is no promise). Lines still in their shipping window are left out, so the
-- latest days are not dragged down by orders that simply have not shipped yet.
CREATE OR REPLACE TABLE marts.kpi_fill_rate_daily AS
WITH due_lines AS (
    SELECT order_date, channel_id, ordered_units, shipped_units
    FROM marts.kpi_order_line_facts
    WHERE NOT is_cancelled AND is_due
)
SELECT
    order_date,
    channel_id,
    count(*) AS lines_due,
    count(*) FILTER (WHERE shipped_units >= ordered_units) AS lines_filled,
    sum(ordered_units)::BIGINT AS units_ordered,
    sum(shipped_units)::BIGINT AS units_shipped,
    sum(shipped_units) / nullif(sum(ordered_units), 0) AS fill_rate
FROM due_lines
GROUP BY ALL
ORDER BY order_date, channel_id
