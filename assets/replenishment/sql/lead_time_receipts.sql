-- The receipts of the PO lines ordered on or after $since.
SELECT r.po_number, r.sku, r.quantity_received, r.received_at
FROM core.receipts AS r
SEMI JOIN (SELECT po_number, sku FROM core.purchase_orders
           WHERE CAST(ordered_at AS DATE) >= $since) USING (po_number, sku)
