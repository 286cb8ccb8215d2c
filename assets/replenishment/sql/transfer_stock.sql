-- Per SKU × location of the policy: what the transfer allocation needs
-- (forecasting.transfers), with the transfers in transit: a destination's position counts
-- what is on its way (so it does not ask again), a source's free units lose what it sent on
-- or after the as-of day (its stock count does not show the departure yet).
WITH coming_in AS (
    SELECT sku, to_location_id AS location_id, sum(transfer_units) AS units
    FROM ops.transfers_in_transit GROUP BY ALL
),
leaving AS (
    SELECT t.sku, t.from_location_id AS location_id, sum(t.transfer_units) AS units
    FROM ops.transfers_in_transit AS t
    WHERE t.sent_on >= (SELECT max(as_of) FROM marts.replenishment_policy)
    GROUP BY ALL
)
SELECT p.sku, p.location_id,
       p.on_hand_units - p.allocated_units - p.backorder_units - coalesce(l.units, 0)
           AS free_units,
       p.inventory_position_units + coalesce(c.units, 0) AS inventory_position_units,
       p.reorder_point_units, p.order_up_to_units, p.lead_time_demand_units,
       p.needs_order AND p.inventory_position_units + coalesce(c.units, 0)
                         <= p.reorder_point_units AS needs_order,
       p.case_pack, p.projected_stockout_date
FROM marts.replenishment_policy AS p
LEFT JOIN coming_in AS c USING (sku, location_id)
LEFT JOIN leaving AS l USING (sku, location_id)
ORDER BY p.sku, p.location_id
