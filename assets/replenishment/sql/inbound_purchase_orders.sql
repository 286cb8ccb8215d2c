-- One row per open PO line with units still to come (the lines behind the projection's
-- inbound units), late when expected before $as_of. Reads the open_po_lines view.
CREATE OR REPLACE TABLE marts.inbound_purchase_orders AS
SELECT CAST($as_of AS DATE) AS as_of, o.po_number, o.supplier_id, s.name AS supplier_name,
       o.sku, o.location_id, CAST(o.ordered_at AS DATE) AS ordered_date,
       o.due AS expected_date,
       CASE WHEN o.expected_at IS NULL THEN 'lead_time' ELSE 'purchase_order' END
           AS expected_date_source,
       CAST(o.quantity_ordered AS BIGINT) AS units_ordered,
       CAST(o.received_units AS BIGINT) AS units_received,
       CAST(o.units AS BIGINT) AS units_inbound,
       coalesce(o.due < $as_of, false) AS is_late,
       greatest($as_of - o.due, 0) AS days_late
FROM open_po_lines AS o
LEFT JOIN core.suppliers AS s ON s.supplier_id = o.supplier_id
WHERE o.units > 0
ORDER BY o.sku, o.location_id, o.due, o.po_number
