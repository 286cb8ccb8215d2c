-- Supplier on-time rate per expected month and supplier: PO lines whose first receipt came
-- on or before expected_at, and on time in full (all ordered units received by then), over
-- PO lines that are due (expected date passed) or already received. Cancelled lines and
-- lines without an expected date are left out. A receipt's date is its local day in the
-- reporting time zone $timezone (expected_at is already a date).
CREATE OR REPLACE TABLE marts.kpi_supplier_on_time_monthly AS
WITH as_of AS (
    SELECT greatest(
        (SELECT max(local_time(received_at, $timezone))::DATE FROM core.receipts),
        (SELECT max(local_time(updated_at, $timezone))::DATE
         FROM core.purchase_orders)
    ) AS as_of_date
),
local_receipts AS (
    SELECT po_number, sku, quantity_received,
           local_time(received_at, $timezone)::DATE AS received_on
    FROM core.receipts
),
po_lines AS (
    SELECT po_number, sku, supplier_id, quantity_ordered, expected_at
    FROM core.purchase_orders
    WHERE status <> 'cancelled' AND expected_at IS NOT NULL
),
receipts_by_line AS (
    SELECT
        p.po_number, p.sku,
        min(r.received_on) AS first_received_on,
        sum(r.quantity_received) FILTER (WHERE r.received_on <= p.expected_at)
            AS units_received_by_due
    FROM po_lines AS p
    JOIN local_receipts AS r USING (po_number, sku)
    GROUP BY ALL
),
due_lines AS (
    SELECT
        p.*, r.first_received_on,
        coalesce(r.units_received_by_due, 0) AS units_received_by_due,
        r.first_received_on IS NOT NULL AND r.first_received_on <= p.expected_at AS on_time
    FROM po_lines AS p
    LEFT JOIN receipts_by_line AS r USING (po_number, sku)
    CROSS JOIN as_of AS a
    WHERE p.expected_at <= a.as_of_date OR r.first_received_on IS NOT NULL
)
SELECT
    date_trunc('month', expected_at)::DATE AS expected_month,
    supplier_id,
    count(*) AS po_lines_due,
    count(*) FILTER (WHERE on_time) AS po_lines_on_time,
    count(*) FILTER (WHERE on_time AND units_received_by_due >= quantity_ordered)
        AS po_lines_on_time_in_full,
    count(*) FILTER (WHERE first_received_on IS NULL) AS po_lines_overdue_unreceived,
    count(*) FILTER (WHERE on_time) / count(*) AS on_time_rate,
    count(*) FILTER (WHERE on_time AND units_received_by_due >= quantity_ordered) / count(*)
        AS on_time_in_full_rate,
    avg(first_received_on - expected_at) FILTER (WHERE first_received_on > expected_at)
        AS average_days_late_when_late
FROM due_lines
GROUP BY ALL
ORDER BY expected_month, supplier_id
