-- Returns per request day, channel and reason: every RMA line in core.returns, including
-- returns whose order line shelfwise never saw (they still say why customers return).
-- The request day is a local day of the reporting time zone $timezone.
CREATE OR REPLACE TABLE marts.kpi_returns_by_reason_daily AS
WITH return_lines AS (
    SELECT local_time(requested_at, $timezone)::DATE AS request_date, channel_id,
           coalesce(reason, '(none)') AS reason, rma_id,
           returned_units AS quantity, returned_value_base AS value_base
    FROM marts.kpi_return_line_links
)
SELECT
    request_date,
    channel_id,
    reason,
    count(DISTINCT rma_id) AS returns,
    sum(quantity)::BIGINT AS units_returned,
    sum(value_base) AS value_returned_base
FROM return_lines
GROUP BY ALL
ORDER BY request_date, channel_id, reason
