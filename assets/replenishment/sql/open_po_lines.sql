-- Open PO lines, what was received of them and the day the rest should come: what
-- inventory_position counts as on order. The day is expected_at; without one, the order day
-- + the learned lead time. A temporary view of this connection, shared by the projection's
-- inbound units and marts.inbound_purchase_orders, so the two always agree.
CREATE OR REPLACE TEMP VIEW open_po_lines AS
WITH received AS (
    SELECT po_number, sku, sum(quantity_received) AS units FROM core.receipts GROUP BY ALL
)
SELECT po.po_number, po.supplier_id, po.sku, po.location_id, po.ordered_at,
       po.expected_at, po.quantity_ordered, coalesce(r.units, 0) AS received_units,
       greatest(po.quantity_ordered - coalesce(r.units, 0), 0) AS units,
       coalesce(po.expected_at,
                CAST(po.ordered_at AS DATE)
                    + CAST(round(coalesce(lt.lead_time_mean_days, 0)) AS INTEGER)) AS due
FROM core.purchase_orders AS po
LEFT JOIN received AS r USING (po_number, sku)
LEFT JOIN marts.lead_times AS lt ON lt.supplier_id = po.supplier_id AND lt.sku = po.sku
WHERE po.status = 'open'
