-- The policy's rows needing an order that still need one once the transfers (suggested, and
-- in transit) arrive: the position after the transfers at or below the reorder point and
-- below the order-up-to level. A temporary view of this connection, shared by the purchase
-- lines and the check that every needed order is suggested, so the two agree.
CREATE OR REPLACE TEMP VIEW needs_after_transfers AS
WITH moved_in AS (
    SELECT sku, to_location_id AS location_id, sum(transfer_units) AS transfer_in_units,
           string_agg(from_location_id || ' ' || transfer_units, ', '
                      ORDER BY from_location_id) AS transfer_from
    FROM (SELECT sku, to_location_id, from_location_id, transfer_units
          FROM marts.transfer_suggestions
          UNION ALL
          SELECT sku, to_location_id, from_location_id || ' (in transit)', transfer_units
          FROM ops.transfers_in_transit)
    GROUP BY ALL
),
company_stock AS (
    SELECT sku,
           CAST(sum(on_hand_units - allocated_units - backorder_units) AS DOUBLE)
               AS company_free_units,
           sum(reorder_point_units) AS company_reorder_point_units
    FROM marts.replenishment_policy GROUP BY sku
),
after_transfers AS (
    SELECT p.*, coalesce(m.transfer_in_units, 0) AS transfer_in_units, m.transfer_from,
           p.inventory_position_units + coalesce(m.transfer_in_units, 0)
               AS position_after_transfers_units,
           c.company_free_units, c.company_reorder_point_units
    FROM marts.replenishment_policy AS p
    LEFT JOIN moved_in AS m USING (sku, location_id)
    LEFT JOIN company_stock AS c USING (sku)
    WHERE p.needs_order
)
SELECT * FROM after_transfers
WHERE position_after_transfers_units <= reorder_point_units
  AND order_up_to_units > position_after_transfers_units
