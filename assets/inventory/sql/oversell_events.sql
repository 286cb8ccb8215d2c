-- One row per order line accepted on a day the channel's ATS for the SKU was 0 (an
-- approximation from the ledger: see docs/inventory.md). Reads temp.channel_buffers
-- (channel_buffers.sql).
CREATE OR REPLACE TABLE marts.oversell_events AS
WITH first_snapshot AS (SELECT min(snapshot_date) AS day FROM core.stock_snapshots),
accepted_lines AS (  -- before the first snapshot the stock is unknown: no verdict
    SELECT channel_id, order_id, line_id, sku AS order_sku, quantity, status, ordered_at,
           CAST(ordered_at AS DATE) AS order_date
    FROM core.order_lines
    WHERE CAST(ordered_at AS DATE) > (SELECT day FROM first_snapshot)
),
component_days AS (  -- each distinct channel × component × day once, however many lines
    SELECT DISTINCT a.channel_id, coalesce(bc.component_sku, a.order_sku) AS sku, a.order_date
    FROM accepted_lines AS a
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = a.order_sku
),
served_component_days AS (  -- each component day at every location serving its channel
    SELECT cd.*, cl.location_id
    FROM component_days AS cd
    JOIN core.channel_locations AS cl USING (channel_id)
),
stock_at_start AS (  -- the ledger's on hand at the end of the last day before the order day
    SELECT s.channel_id, s.sku, s.order_date, greatest(coalesce(l.on_hand_units, 0), 0) AS on_hand
    FROM served_component_days AS s
    ASOF LEFT JOIN marts.stock_ledger AS l
      ON l.sku = s.sku AND l.location_id = s.location_id AND s.order_date > l.day
),
channel_stock AS (
    SELECT channel_id, sku, order_date, sum(on_hand)::BIGINT AS on_hand_units
    FROM stock_at_start GROUP BY channel_id, sku, order_date
),
channel_ats AS (
    SELECT cs.*,
           greatest(cs.on_hand_units - greatest(coalesce(b.buffer_units, 0),
                    ceil(coalesce(b.buffer_pct, 0) * cs.on_hand_units)), 0)::BIGINT AS ats_units
    FROM channel_stock AS cs
    LEFT JOIN temp.channel_buffers AS b USING (channel_id)
),
line_components AS (
    SELECT a.*, coalesce(bc.component_sku, a.order_sku) AS sku,
           coalesce(bc.units_per_bundle, 1) AS units_per_bundle,
           coalesce(ca.ats_units, 0) AS component_ats_units
    FROM accepted_lines AS a
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = a.order_sku
    LEFT JOIN channel_ats AS ca
      ON ca.channel_id = a.channel_id AND ca.order_date = a.order_date
     AND ca.sku = coalesce(bc.component_sku, a.order_sku)
),
line_ats AS (
    SELECT channel_id, order_id, line_id, order_sku, quantity, status, ordered_at, order_date,
           min(component_ats_units // nullif(units_per_bundle, 0)) AS ats_at_start_of_day,
           arg_min(sku, component_ats_units // nullif(units_per_bundle, 0)) AS limiting_sku
    FROM line_components
    GROUP BY channel_id, order_id, line_id, order_sku, quantity, status, ordered_at, order_date
)
SELECT channel_id, order_id, line_id, order_sku AS sku, quantity, status, ordered_at,
       order_date, ats_at_start_of_day, limiting_sku
FROM line_ats
WHERE coalesce(ats_at_start_of_day, 0) = 0
ORDER BY order_date, channel_id, order_id, line_id
