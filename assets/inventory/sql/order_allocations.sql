-- One row per open order line x SKU (bundles as components): the units it holds at its
-- location, covered by free stock or short. Reads temp.first_channel_location
-- (first_channel_location.sql).
CREATE OR REPLACE TABLE marts.order_allocations AS
WITH as_of AS (
    SELECT coalesce(
        (SELECT max(snapshot_date) FROM core.stock_snapshots),
        (SELECT CAST(max(ordered_at) AS DATE) FROM core.order_lines)) AS as_of
),
release_cutoff AS (
    -- an unpaid line holds stock for the payment window, counted back from the end of the
    -- as-of day (data time, not wall-clock time: the same inputs give the same allocations)
    SELECT CAST(as_of + 1 AS TIMESTAMP) - to_seconds(CAST($payment_window_seconds AS BIGINT))
               AS unpaid_since
    FROM as_of
),
candidate_lines AS (  -- accepted, not cancelled, not shipped, holding stock
    SELECT ol.*, (ol.paid_at IS NOT NULL OR ol.status = 'paid') AS is_paid
    FROM core.order_lines AS ol
    CROSS JOIN release_cutoff AS rc
    WHERE ol.status IN ('placed', 'paid')
      AND ol.cancelled_at IS NULL
      AND ol.shipped_at IS NULL
      AND (ol.paid_at IS NOT NULL OR ol.status = 'paid' OR ol.ordered_at >= rc.unpaid_since)
),
shipped_units AS (  -- partial shipments of those lines only (not every event ever)
    SELECT f.channel_id, f.order_id, f.line_id, sum(f.quantity) AS shipped
    FROM core.fulfillment_events AS f
    SEMI JOIN candidate_lines AS c USING (channel_id, order_id, line_id)
    WHERE f.event_type = 'shipped'
    GROUP BY f.channel_id, f.order_id, f.line_id
),
open_lines AS (
    SELECT c.channel_id, c.order_id, c.line_id, c.sku AS order_sku, c.status,
           c.ordered_at, c.paid_at, c.is_paid,
           c.quantity - coalesce(s.shipped, 0) AS open_units,
           coalesce(c.location_id, fcl.location_id) AS location_id,
           CASE WHEN c.location_id IS NOT NULL THEN 'order line'
                WHEN fcl.location_id IS NOT NULL THEN 'channel priority' END AS location_source
    FROM candidate_lines AS c
    LEFT JOIN shipped_units AS s USING (channel_id, order_id, line_id)
    LEFT JOIN temp.first_channel_location AS fcl ON fcl.channel_id = c.channel_id
    WHERE c.quantity > coalesce(s.shipped, 0)
),
component_lines AS (  -- a bundle line allocates its components
    SELECT ol.*, coalesce(bc.component_sku, ol.order_sku) AS sku,
           ol.open_units * coalesce(bc.units_per_bundle, 1) AS units
    FROM open_lines AS ol
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = ol.order_sku
),
allocation_queue AS (
    -- who gets the location's free stock first: paid lines, then by payment or order time
    SELECT c.*,
           greatest(coalesce(s.on_hand_units, 0) - coalesce(s.reserved_units, 0), 0)
               AS free_units,
           sum(c.units) OVER (
               PARTITION BY c.sku, c.location_id
               ORDER BY c.is_paid DESC, coalesce(c.paid_at, c.ordered_at), c.ordered_at,
                        c.channel_id, c.order_id, c.line_id
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cumulative_units
    FROM component_lines AS c
    LEFT JOIN marts.stock_on_hand AS s USING (sku, location_id)
)
SELECT (SELECT as_of FROM as_of) AS as_of,
       channel_id, order_id, line_id, order_sku, sku, location_id, location_source,
       status, is_paid, ordered_at, paid_at,
       units::BIGINT AS units,
       least(units, greatest(free_units - (cumulative_units - units), 0))::BIGINT AS covered_units,
       (units - least(units, greatest(free_units - (cumulative_units - units), 0)))::BIGINT
           AS shortfall_units
FROM allocation_queue
ORDER BY channel_id, order_id, line_id, sku
