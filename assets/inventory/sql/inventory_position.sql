-- One row per SKU x location: on hand + on order - allocated - backorders (units).
CREATE OR REPLACE TABLE marts.inventory_position AS
WITH received_by_po AS (
    SELECT po_number, sku, sum(quantity_received) AS received
    FROM core.receipts GROUP BY po_number, sku
),
on_order AS (  -- open PO lines, less what has already been received against them
    SELECT po.sku, po.location_id,
           sum(greatest(po.quantity_ordered - coalesce(r.received, 0), 0))::BIGINT AS on_order_units
    FROM core.purchase_orders AS po
    LEFT JOIN received_by_po AS r USING (po_number, sku)
    WHERE po.status = 'open'
    GROUP BY po.sku, po.location_id
),
commitments AS (
    SELECT sku, location_id,
           sum(covered_units)::BIGINT AS allocated_units,
           coalesce(sum(shortfall_units) FILTER (WHERE is_paid), 0)::BIGINT AS backorder_units
    FROM marts.order_allocations
    WHERE location_id IS NOT NULL
    GROUP BY sku, location_id
),
sku_locations AS (
    SELECT sku, location_id FROM marts.stock_on_hand
    UNION SELECT sku, location_id FROM on_order
    UNION SELECT sku, location_id FROM commitments
),
position_parts AS (
    SELECT k.sku, k.location_id,
           greatest(coalesce(s.on_hand_units, 0), 0)::BIGINT AS on_hand_units,
           coalesce(o.on_order_units, 0) AS on_order_units,
           coalesce(c.allocated_units, 0) AS allocated_units,
           coalesce(c.backorder_units, 0) AS backorder_units
    FROM sku_locations AS k
    LEFT JOIN marts.stock_on_hand AS s USING (sku, location_id)
    LEFT JOIN on_order AS o USING (sku, location_id)
    LEFT JOIN commitments AS c USING (sku, location_id)
)
SELECT (SELECT max(snapshot_date) FROM core.stock_snapshots) AS as_of, *,
       on_hand_units + on_order_units - allocated_units - backorder_units
           AS inventory_position_units
FROM position_parts
ORDER BY sku, location_id
