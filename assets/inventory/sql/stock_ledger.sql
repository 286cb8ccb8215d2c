-- One row per SKU x location x day with a movement or a snapshot: units in and out, the
-- book's opening and closing, the snapshot. Bundles move as their components. Reads
-- temp.first_channel_location (first_channel_location.sql).
CREATE OR REPLACE TABLE marts.stock_ledger AS
WITH receipts AS (
    SELECT sku, location_id, CAST(received_at AS DATE) AS day,
           quantity_received AS received, 0 AS shipped, 0 AS returned, 0 AS transferred, 0 AS adjusted
    FROM core.receipts
),
shipments AS (
    SELECT sku, location_id, CAST(event_at AS DATE) AS day,
           0, quantity, 0, 0, 0
    FROM core.fulfillment_events
    WHERE event_type = 'shipped'
),
resellable_returns AS (
    SELECT r.sku, coalesce(r.location_id, ol.location_id, fcl.location_id) AS location_id,
           CAST(r.received_at AS DATE) AS day, 0, 0, r.quantity, 0, 0
    FROM core.returns AS r
    LEFT JOIN core.order_lines AS ol USING (channel_id, order_id, line_id)
    LEFT JOIN temp.first_channel_location AS fcl ON fcl.channel_id = r.channel_id
    WHERE r.resellable AND r.received_at IS NOT NULL
),
adjustments AS (  -- quantity is already signed: + into stock, - out of stock
    SELECT sku, location_id, CAST(adjusted_at AS DATE) AS day, 0, 0, 0,
           CASE WHEN reason IN ('transfer_in', 'transfer_out') THEN quantity ELSE 0 END,
           CASE WHEN reason IN ('transfer_in', 'transfer_out') THEN 0 ELSE quantity END
    FROM core.stock_adjustments
),
movements AS (
    SELECT * FROM receipts
    UNION ALL SELECT * FROM shipments
    UNION ALL SELECT * FROM resellable_returns
    UNION ALL SELECT * FROM adjustments
),
component_movements AS (  -- a bundle SKU moves as its components × units per bundle
    SELECT coalesce(bc.component_sku, m.sku) AS sku, m.location_id, m.day,
           m.received * coalesce(bc.units_per_bundle, 1) AS received,
           m.shipped * coalesce(bc.units_per_bundle, 1) AS shipped,
           m.returned * coalesce(bc.units_per_bundle, 1) AS returned,
           m.transferred * coalesce(bc.units_per_bundle, 1) AS transferred,
           m.adjusted * coalesce(bc.units_per_bundle, 1) AS adjusted
    FROM movements AS m
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = m.sku
    WHERE m.location_id IS NOT NULL
),
daily_movements AS (
    SELECT sku, location_id, day,
           sum(received)::BIGINT AS received, sum(shipped)::BIGINT AS shipped,
           sum(returned)::BIGINT AS returned, sum(transferred)::BIGINT AS transferred,
           sum(adjusted)::BIGINT AS adjusted
    FROM component_movements GROUP BY sku, location_id, day
),
snapshots AS (
    SELECT sku, location_id, snapshot_date AS day, on_hand, reserved, counted
    FROM core.stock_snapshots
),
ledger_days AS (  -- every SKU-location-day with a movement or a snapshot
    SELECT coalesce(m.sku, s.sku) AS sku, coalesce(m.location_id, s.location_id) AS location_id,
           coalesce(m.day, s.day) AS day,
           coalesce(m.received, 0) AS received, coalesce(m.shipped, 0) AS shipped,
           coalesce(m.returned, 0) AS returned, coalesce(m.transferred, 0) AS transferred,
           coalesce(m.adjusted, 0) AS adjusted,
           s.on_hand::BIGINT AS snapshot_on_hand, s.reserved::BIGINT AS snapshot_reserved,
           s.counted
    FROM daily_movements AS m
    FULL JOIN snapshots AS s
      ON s.sku = m.sku AND s.location_id = m.location_id AND s.day = m.day
),
sku_location_series AS (  -- a compact integer key per SKU-location: the windows sort on it, not on text
    -- (from the inputs, not from `ledger_days`: a second reference would materialize all its rows)
    SELECT sku, location_id, row_number() OVER () AS series_id
    FROM (SELECT sku, location_id FROM core.stock_snapshots
          UNION SELECT sku, location_id FROM daily_movements)
),
days_with_net_change AS (
    SELECT d.*, s.series_id,
           (d.received - d.shipped + d.returned + d.transferred + d.adjusted)::BIGINT AS net_change
    FROM ledger_days AS d
    JOIN sku_location_series AS s USING (sku, location_id)
),
running_net_change AS (  -- net movement from the series' first day through this day
    SELECT *, sum(net_change) OVER (PARTITION BY series_id ORDER BY day) AS cum_net
    FROM days_with_net_change
),
book_balances AS (
    -- the book balance = the latest snapshot strictly before the day + net movement since:
    -- anchor + (cum_net(day) - cum_net(snapshot day)); a series without an earlier
    -- snapshot starts from 0. Both lags share one sort (same window).
    SELECT *,
           cum_net + coalesce(lag(snapshot_on_hand - cum_net IGNORE NULLS) OVER by_day, 0)
               AS closing_book,
           lag(CASE WHEN snapshot_on_hand IS NOT NULL THEN day END IGNORE NULLS) OVER by_day
               AS previous_snapshot_date
    FROM running_net_change
    WINDOW by_day AS (PARTITION BY series_id ORDER BY day)
)
SELECT day, location_id, sku,
       (closing_book - net_change)::BIGINT AS opening_units,
       received, shipped, returned, transferred, adjusted, net_change,
       closing_book::BIGINT AS closing_units,
       snapshot_on_hand, snapshot_reserved, counted,
       coalesce(snapshot_on_hand, closing_book)::BIGINT AS on_hand_units,
       previous_snapshot_date
FROM book_balances
