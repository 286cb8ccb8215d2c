-- The policy's "today": the inventory position's as-of day (the latest stock snapshot).
SELECT max(as_of) AS as_of FROM marts.inventory_position
