-- The day of the latest purchase order: the lead times' "today" before any stock snapshot.
SELECT CAST(max(ordered_at) AS DATE) AS ordered_on FROM core.purchase_orders
