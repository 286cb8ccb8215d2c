-- Returns per request day, channel and reason: every RMA line in core.returns, including
-- returns whose order line shelfwise never saw (they still say why customers return).
CREATE OR REPLACE TABLE marts.kpi_returns_by_reason_daily AS
WITH return_lines AS (
    SELECT requested_at::DATE AS request_date, channel_id, reason, rma_id,
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
