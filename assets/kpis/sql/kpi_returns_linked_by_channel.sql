-- Per channel: how many returned units link to their order line (kpi_return_line_links), and
-- what that means for the return rate. Under 99 % linked the rate is shown with a warning;
-- under 90 % it is withheld (status 'blocked'): a rate that misses a tenth of the returns is
-- not a rate a manager should act on. The asset check returns_linked reads the same numbers.
CREATE OR REPLACE TABLE marts.kpi_returns_linked_by_channel AS
WITH per_channel AS (
    SELECT
        channel_id,
        count(*) AS return_lines,
        count(*) FILTER (WHERE line_id IS NULL) AS return_lines_unlinked,
        sum(returned_units)::BIGINT AS units_returned,
        coalesce(sum(returned_units) FILTER (WHERE line_id IS NOT NULL), 0)::BIGINT
            AS units_linked,
        string_agg(DISTINCT linked_by, ', ' ORDER BY linked_by) AS linked_by
    FROM marts.kpi_return_line_links
    GROUP BY channel_id
)
SELECT
    channel_id,
    return_lines,
    return_lines_unlinked,
    units_returned,
    units_linked,
    units_linked / nullif(units_returned, 0) AS linked_share,
    linked_by,
    CASE WHEN units_linked >= $returns_linked_warn_share * units_returned THEN 'ok'
         WHEN units_linked >= $returns_linked_block_share * units_returned THEN 'warn'
         ELSE 'blocked' END AS status
FROM per_channel
ORDER BY channel_id
