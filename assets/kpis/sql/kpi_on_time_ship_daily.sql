-- On-time ship rate per promise day and channel: lines shipped by promised_ship_by over
-- lines whose promise has passed or that have shipped. Lines without a promise and lines
-- not yet due are left out (their outcome is not known). The promise day is a local day
-- of the reporting time zone $timezone.
CREATE OR REPLACE TABLE marts.kpi_on_time_ship_daily AS
WITH promised_lines AS (
    SELECT local_time(promised_ship_by, $timezone)::DATE AS promise_date, channel_id,
           shipped_on_time, shipped_at
    FROM marts.kpi_order_line_facts
    WHERE shipped_on_time IS NOT NULL
)
SELECT
    promise_date,
    channel_id,
    count(*) AS lines_due,
    count(*) FILTER (WHERE shipped_on_time) AS lines_on_time,
    count(*) FILTER (WHERE NOT shipped_on_time AND shipped_at IS NOT NULL) AS lines_shipped_late,
    count(*) FILTER (WHERE shipped_at IS NULL) AS lines_overdue_unshipped,
    count(*) FILTER (WHERE shipped_on_time) / count(*) AS on_time_ship_rate
FROM promised_lines
GROUP BY ALL
ORDER BY promise_date, channel_id
