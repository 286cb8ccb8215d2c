-- The policy rows that need an order now (at or below the reorder point, order-up-to above
-- the position, not discontinued by the time an order would arrive) and the units needed.
SELECT *, order_up_to_units - inventory_position_units AS need_units
FROM marts.replenishment_policy
WHERE needs_order
ORDER BY sku, location_id
