-- What a unit sells for (base currency), the money a lost sale costs: the mean unit price
-- of the SKU's non-cancelled order lines with a price. A temporary table of this connection,
-- read by the low-stock and oversell rules.
CREATE OR REPLACE TEMP TABLE alert_selling_price AS
SELECT sku, avg(unit_price_base) AS unit_price_base
FROM core.order_lines
WHERE status <> 'cancelled' AND unit_price_base > 0
GROUP BY sku
