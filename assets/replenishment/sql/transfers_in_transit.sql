-- Sent transfers (the transfer decision store's rows, _frame) not arrived by the policy's
-- as-of day: a destination's position counts them, a source's free units lose them.
CREATE OR REPLACE TABLE ops.transfers_in_transit AS
SELECT * FROM _frame
WHERE expected_arrival_date > (SELECT max(as_of) FROM marts.replenishment_policy)
ORDER BY sku, to_location_id, transfer_id
