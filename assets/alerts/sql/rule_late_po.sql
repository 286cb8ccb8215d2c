-- Late purchase orders: open PO lines of a SKU-location with units still due more than
-- $late_po_grace_days after their expected date (critical from $late_po_critical_days). One
-- alert per SKU-location however many of its PO lines are late: the lines go in the message
-- (the buyer calls the supplier once about all of them). value_base is what the late lines
-- still owe.
INSERT INTO alerts_raised BY NAME
WITH open_po_lines AS (
    SELECT po.*, d.as_of - po.expected_at AS days_late,
           (po.quantity_ordered - coalesce(r.received, 0))::BIGINT AS outstanding
    FROM core.purchase_orders AS po
    CROSS JOIN alert_day AS d
    LEFT JOIN (SELECT po_number, sku, sum(quantity_received) AS received
               FROM core.receipts GROUP BY po_number, sku) AS r USING (po_number, sku)
    WHERE po.status = 'open' AND po.expected_at IS NOT NULL
)
SELECT 'late_po' AS alert_type,
       'late_po:' || sku || ':' || location_id AS alert_key,
       CASE WHEN max(days_late) >= $late_po_critical_days THEN 'critical' ELSE 'warning' END
           AS severity,
       sku || ' at ' || location_id || ' from ' || string_agg(DISTINCT supplier_id, ', ')
           AS subject,
       sku, location_id, min(supplier_id) AS supplier_id,
       string_agg(po_number, ', ' ORDER BY po_number) AS po_number,
       'days_late' AS metric, max(days_late) AS metric_value, $late_po_grace_days AS threshold,
       sum(outstanding)::BIGINT AS units,
       -- the amount in the PO currency only when every late line has the same one
       CASE WHEN count(DISTINCT currency) = 1 THEN sum(outstanding * unit_cost) END AS value,
       CASE WHEN count(DISTINCT currency) = 1 THEN any_value(currency) END AS currency,
       sum(outstanding * unit_cost_base) AS value_base,
       string_agg(format('{} {} from {}: {} of {} units still due, expected {} ({} days late)',
                         po_number, sku, supplier_id, outstanding, quantity_ordered, expected_at,
                         days_late), '; ' ORDER BY po_number) AS message
FROM open_po_lines
WHERE days_late > $late_po_grace_days AND outstanding > 0
GROUP BY sku, location_id
