-- Units still to come per SKU × location of the policy's scope and day they are expected;
-- overdue lines are expected the day after $as_of. Reads the policy_scope and open_po_lines
-- views.
SELECT sku, location_id,
       greatest(due, $as_of + 1) AS date,  -- overdue: expected tomorrow
       sum(units)::BIGINT AS inbound_units
FROM open_po_lines
SEMI JOIN policy_scope USING (sku, location_id)
WHERE units > 0
GROUP BY ALL
ORDER BY sku, location_id, date
