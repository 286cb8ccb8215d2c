-- What to order now, one row per SKU × location, from the sized lines (_frame; most urgent
-- first). suggestion_id = md5 of as_of|sku|location_id: the same day's re-run keeps the ids.
-- Beyond the sizing: days_of_cover_after_order ((inventory position + suggested units) ÷ mean
-- daily demand, days from today; null without demand), moq_excess_units (units the MOQ adds
-- beyond the need rounded up to whole cases; 0 when the MOQ does not bind), moq_excess_days
-- (the same in days of mean demand) and moq_overbuy (the excess is more than
-- $moq_overbuy_days days of demand, or any excess without demand); last, the urgency label.
CREATE OR REPLACE TABLE marts.replenishment_suggestions AS
WITH lines_to_order AS (
    SELECT *, greatest(coalesce(case_pack, 1), 1) AS _pack FROM _frame WHERE suggested_units > 0
),
moq_excess AS (  -- what the MOQ alone adds: the need in whole cases against the need lifted to the MOQ
    SELECT *,
           CAST(greatest(
               least(suggested_units,
                     ceil(greatest(ceil(greatest(need_units, 0) - 1e-9), coalesce(moq, 0))
                          / _pack) * _pack)
               - ceil(ceil(greatest(need_units, 0) - 1e-9) / _pack) * _pack, 0) AS BIGINT)
               AS moq_excess_units
    FROM lines_to_order
)
SELECT md5(concat_ws('|', CAST(as_of AS VARCHAR), sku, location_id)) AS suggestion_id,
       as_of, sku, product_name, location_id, supplier_id, supplier_name, supplier_sku,
       order_date, expected_arrival_date,
       CAST(suggested_units AS BIGINT) AS suggested_units, CAST(case_pack AS INTEGER) AS case_pack,
       CAST(cases AS BIGINT) AS cases, CAST(moq AS INTEGER) AS moq,
       unit_cost, currency, unit_cost_base, line_value,
       suggested_units * unit_cost_base AS line_value_base,
       service_level, reorder_point_units, order_up_to_units, safety_stock_units,
       inventory_position_units, projected_stockout_date, days_of_cover, last_order_date,
       CAST(urgency_rank AS INTEGER) AS urgency_rank, reason, reason_codes,
       -- beyond the contract
       need_units, topup_units, coverage_cap_units, order_value, min_order_value,
       order_below_min_value, mean_daily_demand_units, season_ratio, season_days,
       -- the position once this order (and the open purchase orders) are in, in days of mean
       -- demand from today; null without demand
       CASE WHEN mean_daily_demand_units > 0
            THEN (inventory_position_units + suggested_units) / mean_daily_demand_units
            END AS days_of_cover_after_order,
       moq_excess_units,
       CASE WHEN mean_daily_demand_units > 0
            THEN moq_excess_units / mean_daily_demand_units END AS moq_excess_days,
       -- an MOQ-driven overbuy: the MOQ adds more than $moq_overbuy_days days of demand beyond
       -- the need in whole cases (any excess at all when the line has no demand)
       moq_excess_units > 0
         AND coalesce(moq_excess_units / nullif(mean_daily_demand_units, 0)
                      > $moq_overbuy_days, true) AS moq_overbuy,
       -- critical | high | normal, as forecasting.urgency labels it (the page filters by it)
       urgency
FROM moq_excess
ORDER BY urgency_rank
