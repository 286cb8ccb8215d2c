-- PO lines ordered on or after $since: what the lead times are learned from.
SELECT po_number, supplier_id, sku, quantity_ordered, ordered_at, expected_at, status
FROM core.purchase_orders
WHERE CAST(ordered_at AS DATE) >= $since
