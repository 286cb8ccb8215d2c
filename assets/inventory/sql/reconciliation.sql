-- One row per snapshot day x location x SKU that has an earlier snapshot: the count against
-- the book since then, the difference in units and in $base_currency, tolerance, likely cause.
CREATE OR REPLACE TABLE marts.reconciliation AS
WITH snapshot_rows AS (  -- every snapshot with an earlier one; the ledger's book closing is expected
    SELECT sku, location_id, day AS snapshot_date, previous_snapshot_date, counted,
           opening_units, received, shipped, returned, transferred, adjusted,
           closing_units AS expected_on_hand, snapshot_on_hand AS counted_on_hand
    FROM marts.stock_ledger
    WHERE snapshot_on_hand IS NOT NULL AND previous_snapshot_date IS NOT NULL
),
between_days AS (
    -- movement days after the previous snapshot and before this one (none when snapshots are
    -- daily); grouped by the snapshot that anchors them
    SELECT sku, location_id, previous_snapshot_date,
           arg_min(opening_units, day) AS previous_on_hand,
           sum(received) AS received, sum(shipped) AS shipped, sum(returned) AS returned,
           sum(transferred) AS transferred, sum(adjusted) AS adjusted
    FROM marts.stock_ledger
    WHERE snapshot_on_hand IS NULL AND previous_snapshot_date IS NOT NULL
    GROUP BY sku, location_id, previous_snapshot_date
),
differences AS (
    SELECT s.snapshot_date, s.location_id, s.sku, s.counted, s.previous_snapshot_date,
           coalesce(b.previous_on_hand, s.opening_units) AS previous_on_hand,
           (s.received + coalesce(b.received, 0))::BIGINT AS received,
           (s.shipped + coalesce(b.shipped, 0))::BIGINT AS shipped,
           (s.returned + coalesce(b.returned, 0))::BIGINT AS returned,
           (s.transferred + coalesce(b.transferred, 0))::BIGINT AS transferred,
           (s.adjusted + coalesce(b.adjusted, 0))::BIGINT AS adjusted,
           s.expected_on_hand, s.counted_on_hand,
           s.counted_on_hand - s.expected_on_hand AS difference_units
    FROM snapshot_rows AS s
    LEFT JOIN between_days AS b USING (sku, location_id, previous_snapshot_date)
),
cost_rates AS (  -- per cost currency and snapshot day, the latest FX rate on or before it
    SELECT g.currency, g.snapshot_date, f.rate_to_base
    FROM (SELECT c.currency, d.snapshot_date
          FROM (SELECT DISTINCT cost_currency AS currency FROM core.products
                WHERE cost_currency IS NOT NULL AND cost_currency <> $base_currency) AS c
          CROSS JOIN (SELECT DISTINCT snapshot_date FROM core.stock_snapshots) AS d) AS g
    ASOF LEFT JOIN core.fx_rates AS f
      ON f.currency = g.currency AND g.snapshot_date >= f.rate_date
),
discrepancies AS (
    SELECT sku, location_id, snapshot_date, previous_snapshot_date, difference_units
    FROM differences WHERE difference_units <> 0
),
late_postings AS (
    -- movements posted after a count that would explain its difference, signed like the
    -- difference (counted - expected): a receipt posted late makes the count higher, a
    -- shipment posted late makes it lower, a transfer posted late moves it by its sign
    SELECT 1 AS priority, 'unrecorded receipt' AS cause, sku, location_id,
           CAST(received_at AS DATE) AS day, quantity_received AS units,
           'receipt ' || receipt_id AS reference
    FROM core.receipts
    UNION ALL
    SELECT 2, 'shipment not posted', coalesce(bc.component_sku, f.sku), f.location_id,
           CAST(f.event_at AS DATE), -f.quantity * coalesce(bc.units_per_bundle, 1),
           'shipment ' || f.shipment_id
    FROM core.fulfillment_events AS f
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = f.sku
    WHERE f.event_type = 'shipped'
    UNION ALL
    SELECT 3, 'transfer not posted', sku, location_id, CAST(adjusted_at AS DATE), quantity,
           'transfer ' || coalesce(reference, adjustment_id)
    FROM core.stock_adjustments
    WHERE reason IN ('transfer_in', 'transfer_out')
),
near_postings AS (  -- postings of a discrepant SKU-location in the days after its snapshot
    SELECT d.sku, d.location_id, d.snapshot_date, d.difference_units,
           lp.priority, lp.cause, lp.day, lp.units, lp.reference
    FROM discrepancies AS d
    JOIN late_postings AS lp
      ON lp.sku = d.sku AND lp.location_id = d.location_id
     AND lp.day > d.snapshot_date AND lp.day <= d.snapshot_date + $cause_lookahead_days
),
posting_candidates AS (  -- each document, and several of one kind posted together on one day
    SELECT * FROM near_postings
    UNION ALL
    SELECT sku, location_id, snapshot_date, difference_units, priority, cause, day,
           sum(units), string_agg(reference, ', ' ORDER BY reference)
    FROM near_postings
    GROUP BY sku, location_id, snapshot_date, difference_units, priority, cause, day
    HAVING count(*) > 1
),
posting_matches AS (
    SELECT sku, location_id, snapshot_date,
           arg_min(cause, (priority, day, reference)) AS cause,
           arg_min(reference || ' posted ' || CAST(day AS VARCHAR), (priority, day, reference))
               AS reference
    FROM posting_candidates
    WHERE units = difference_units
    GROUP BY sku, location_id, snapshot_date
),
count_errors AS (
    -- a wrong count shows twice: as a difference on its day and as the opposite difference
    -- at the next snapshot, which the ledger anchors on the wrong count
    SELECT sku, location_id, snapshot_date,
           coalesce(lead(difference_units) OVER w = -difference_units
                    AND lead(previous_snapshot_date) OVER w = snapshot_date, false)
               AS reversed_by_next,
           coalesce(lag(difference_units) OVER w = -difference_units
                    AND lag(snapshot_date) OVER w = previous_snapshot_date, false)
               AS reverses_previous,
           lag(snapshot_date) OVER w AS previous_difference_date
    FROM discrepancies
    WINDOW w AS (PARTITION BY sku, location_id ORDER BY snapshot_date)
),
causes AS (
    SELECT ce.sku, ce.location_id, ce.snapshot_date,
           CASE WHEN pm.cause IS NOT NULL THEN pm.cause
                WHEN ce.reversed_by_next THEN 'count error'
                WHEN ce.reverses_previous THEN 'count error corrected' END AS cause,
           CASE WHEN pm.cause IS NOT NULL THEN pm.reference
                WHEN ce.reversed_by_next THEN 'reversed at the next snapshot'
                WHEN ce.reverses_previous
                     THEN 'reverses the difference of ' || CAST(ce.previous_difference_date AS VARCHAR)
                END AS reference
    FROM count_errors AS ce
    LEFT JOIN posting_matches AS pm USING (sku, location_id, snapshot_date)
),
valued_differences AS (
    SELECT d.*,
           CASE WHEN p.unit_cost IS NULL THEN NULL
                WHEN coalesce(p.cost_currency, $base_currency) = $base_currency THEN p.unit_cost
                ELSE p.unit_cost * r.rate_to_base END AS unit_cost_base
    FROM differences AS d
    LEFT JOIN core.products AS p USING (sku)
    LEFT JOIN cost_rates AS r
      ON r.currency = p.cost_currency AND r.snapshot_date = d.snapshot_date
)
SELECT v.snapshot_date, v.location_id, v.sku, v.counted,
       v.previous_snapshot_date, v.previous_on_hand,
       v.received, v.shipped, v.returned, v.transferred, v.adjusted,
       v.expected_on_hand, v.counted_on_hand, v.difference_units,
       v.difference_units / nullif(abs(v.expected_on_hand), 0) AS difference_pct,
       v.unit_cost_base,
       v.difference_units * v.unit_cost_base AS difference_value_base,
       greatest($tolerance_units, $tolerance_pct * abs(v.expected_on_hand)) AS tolerance_units,
       abs(v.difference_units)
           <= greatest($tolerance_units, $tolerance_pct * abs(v.expected_on_hand))
           AS within_tolerance,
       CASE WHEN v.difference_units = 0 THEN NULL
            WHEN c.cause IS NOT NULL THEN c.cause
            WHEN v.difference_units < 0 AND v.counted
                 AND -v.difference_units
                     <= greatest($shrinkage_max_units, $shrinkage_max_pct * abs(v.expected_on_hand))
                 THEN 'shrinkage'
            ELSE 'unexplained' END AS likely_cause,
       c.reference AS cause_reference
FROM valued_differences AS v
LEFT JOIN causes AS c USING (sku, location_id, snapshot_date)
