-- The policy rows that still need an order after the transfers arrive, the position counting
-- the units transferred in, and need_units = order-up-to − that position. Reads the
-- needs_after_transfers view.
SELECT * REPLACE (position_after_transfers_units AS inventory_position_units),
       order_up_to_units - position_after_transfers_units AS need_units
FROM needs_after_transfers
ORDER BY sku, location_id
