-- SKU × locations that need an order and have no purchase suggestion, when no transfer table
-- was built (0 when all is well).
SELECT count(*) AS unserved
FROM marts.replenishment_policy AS p
WHERE p.needs_order AND NOT EXISTS (
    SELECT 1 FROM marts.replenishment_suggestions AS s
    WHERE s.sku = p.sku AND s.location_id = p.location_id)
