-- Returned units per ship-day cohort, channel and reason: the numerator of the return rate
-- by reason (÷ the cohort's units_shipped in kpi_return_rate_daily). Only returns linked to
-- a shipped order line count, as in every return rate.
CREATE OR REPLACE TABLE marts.kpi_return_rate_by_reason AS
SELECT
    f.ship_date,
    f.channel_id,
    r.reason,
    sum(r.returned_units)::BIGINT AS units_returned,
    sum(r.returned_value_base) AS value_returned_base
FROM marts.kpi_return_line_links AS r
JOIN marts.kpi_order_line_facts AS f USING (channel_id, order_id, line_id)
WHERE f.shipped_units > 0
GROUP BY ALL
ORDER BY f.ship_date, f.channel_id, r.reason
