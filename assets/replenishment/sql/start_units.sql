-- What the projection starts from per SKU × location of the policy's scope, in units: on
-- hand − allocated (will ship) − backorders (paid, waiting for stock); may be below 0.
-- Reads the policy_scope view (policy_scope.sql).
SELECT ip.sku, ip.location_id,
       ip.on_hand_units - ip.allocated_units - ip.backorder_units AS start_units
FROM marts.inventory_position AS ip
SEMI JOIN policy_scope USING (sku, location_id)
ORDER BY sku, location_id
