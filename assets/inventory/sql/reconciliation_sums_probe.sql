WITH judged AS (
    -- a row without a count or an expectation has no difference to add up
    SELECT difference_units AS difference, counted_on_hand AS counted,
           expected_on_hand AS expected,
           difference_units - (counted_on_hand - expected_on_hand) AS row_gap
    FROM marts.reconciliation
    WHERE counted_on_hand IS NOT NULL AND expected_on_hand IS NOT NULL
)
SELECT count(*) AS rows,
       coalesce(sum(difference), 0) AS sum_difference,
       coalesce(sum(counted), 0) AS sum_counted,
       coalesce(sum(expected), 0) AS sum_expected,
       coalesce(sum(difference), 0)
         - (coalesce(sum(counted), 0) - coalesce(sum(expected), 0)) AS gap,
       -- a missing difference where counted and expected are known is a mismatch too
       count(*) FILTER (WHERE row_gap IS NULL OR abs(row_gap) > 0.5) AS mismatched_rows,
       -- one offending row, whole, so a person can look it up (cast once, not per row)
       (SELECT CAST(r AS VARCHAR) FROM marts.reconciliation AS r
         WHERE r.counted_on_hand IS NOT NULL AND r.expected_on_hand IS NOT NULL
           AND (r.difference_units IS NULL
                OR abs(r.difference_units - (r.counted_on_hand - r.expected_on_hand)) > 0.5)
         LIMIT 1) AS example_row
FROM judged
