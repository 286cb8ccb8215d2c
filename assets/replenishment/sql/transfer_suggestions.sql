-- One row per SKU × source × destination that moves spare stock to a location needing an
-- order (_frame: forecasting.transfers.allocate_transfers with its reason); transfer_id = md5
-- of as_of|sku|from|to, so the same day's re-run keeps the ids.
CREATE OR REPLACE TABLE marts.transfer_suggestions AS
SELECT md5(concat_ws('|', CAST(p.as_of AS VARCHAR), t.sku, t.from_location_id, t.to_location_id))
           AS transfer_id,
       p.as_of, t.sku, p.product_name, t.from_location_id, t.to_location_id,
       CAST(t.transfer_units AS BIGINT) AS transfer_units,
       CAST(t.case_pack AS INTEGER) AS case_pack,
       CAST(t.transfer_units // t.case_pack AS BIGINT) AS cases,
       p.as_of AS ship_date,
       t.transfer_lead_time_days,
       p.as_of + CAST(ceil(t.transfer_lead_time_days) AS INTEGER) AS expected_arrival_date,
       t.cost_per_unit, t.transfer_cost AS transfer_cost_base,
       p.unit_cost_base, t.transfer_units * p.unit_cost_base AS stock_value_base,
       t.reason,
       t.source_free_units, t.source_keep_units, t.source_excess_units,
       t.destination_position_units, t.destination_reorder_point_units,
       t.destination_order_up_to_units, t.destination_request_units,
       p.projected_stockout_date AS destination_projected_stockout_date,
       t.rule, t.source_reorder_point_units, t.company_free_units, t.company_reorder_point_units
FROM _frame AS t
JOIN marts.replenishment_policy AS p ON p.sku = t.sku AND p.location_id = t.to_location_id
ORDER BY destination_projected_stockout_date NULLS LAST, t.sku, t.to_location_id,
         t.from_location_id
