-- SKU × locations that need an order after the transfers and have no purchase suggestion
-- (0 when all is well). Reads the needs_after_transfers view.
SELECT count(*) AS unserved
FROM needs_after_transfers AS p
WHERE NOT EXISTS (SELECT 1 FROM marts.replenishment_suggestions AS s
                  WHERE s.sku = p.sku AND s.location_id = p.location_id)
