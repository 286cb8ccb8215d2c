-- One row per return line of core.returns with the order line it belongs to
-- (kpi_order_line_links: by line id, else by order id + SKU) and its value in the base
-- currency. A return that links to no line has line_id NULL: it still counts in the returns
-- by reason, never in a return rate (which needs the shipped line).
CREATE OR REPLACE TABLE marts.kpi_return_line_links AS
SELECT
    r.rma_id,
    r.channel_id,
    r.order_id,
    r.line_id AS return_line_id,   -- as the returns export printed it
    k.line_id,                     -- the order line's own id (NULL: not linked)
    k.linked_by,
    r.sku,
    r.quantity AS returned_units,
    coalesce(r.reason, '(none)') AS reason,
    r.condition,
    r.requested_at,
    r.received_at,
    -- the refund in the base currency; a return without a refund amount is valued at the
    -- linked line's base unit price (NULL when it links to no line)
    coalesce(r.refund_amount_base, r.quantity * l.unit_price_base) AS returned_value_base
FROM core.returns AS r
LEFT JOIN marts.kpi_order_line_links AS k
  ON k.channel_id = r.channel_id AND k.order_id = r.order_id
 AND k.referenced_line_id = r.line_id AND k.sku = r.sku
LEFT JOIN core.order_lines AS l
  ON l.channel_id = k.channel_id AND l.order_id = k.order_id AND l.line_id = k.line_id
ORDER BY r.channel_id, r.order_id, r.rma_id, return_line_id
