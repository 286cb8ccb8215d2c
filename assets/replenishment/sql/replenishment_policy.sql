-- The reorder policy per SKU × location as of $as_of: the levels forecasting.policy computed
-- (_frame: service level, lead time, demand, safety stock, reorder point, order-up-to, the
-- demand share and season), joined with the position, master data, unit cost (base currency,
-- and in the supplier's currency), the projected stockout date and the supplier's order days.
-- needs_order: at or below the reorder point, the order-up-to level above the position, and
-- not discontinued by the time an order placed on the order day arrives.
CREATE OR REPLACE TABLE marts.replenishment_policy AS
WITH fx_rates_as_of AS (  -- the latest rate on or before the as-of day; the base currency is 1
    SELECT currency, arg_max(rate_to_base, rate_date) AS rate
    FROM core.fx_rates
    WHERE rate_date <= $as_of AND currency <> $base_currency
    GROUP BY currency
    UNION ALL SELECT $base_currency, 1.0
),
order_weekdays AS (
    -- a supplier's order weekdays ('Mon,Thu') as lower-case three-letter names; an empty or
    -- unreadable list means "any day" (the next order day is then the as-of day)
    SELECT supplier_id,
           list_filter(list_transform(string_split(coalesce(order_weekdays, ''), ','),
                                      lambda x: lower(left(trim(x), 3))),
                       lambda x: x IN ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'))
               AS weekdays
    FROM core.suppliers
),
week_days AS (SELECT CAST(range AS INTEGER) AS d FROM range(0, 7)),
projected_stockouts AS (  -- the first projected day at or below 0 after some demand
    SELECT sku, location_id,
           min(date) FILTER (WHERE projected_on_hand_units <= 0 AND cum_demand > 0)
               AS projected_stockout_date
    FROM (SELECT *, sum(demand_units) OVER (PARTITION BY sku, location_id ORDER BY date)
                        AS cum_demand
          FROM marts.projected_stock)
    GROUP BY sku, location_id
),
levels_with_position AS (
    SELECT l.*, ip.on_hand_units, ip.on_order_units, ip.allocated_units, ip.backorder_units,
           ip.inventory_position_units,
           p.name AS product_name, p.supplier_sku, p.case_pack, p.moq, p.discontinued_on,
           s.name AS supplier_name, s.currency, s.min_order_value, od.weekdays,
           uc.unit_cost_base,
           -- the cost in the supplier's currency: master data when it is in that currency,
           -- else the base-currency cost converted at the as-of rate
           CASE WHEN p.cost_currency = s.currency AND p.unit_cost IS NOT NULL THEN p.unit_cost
                ELSE uc.unit_cost_base / rs.rate END AS unit_cost,
           so.projected_stockout_date,
           CAST(round(l.lead_time_mean_days) AS INTEGER) AS lead_days
    FROM _frame AS l
    JOIN marts.inventory_position AS ip USING (sku, location_id)
    JOIN core.products AS p USING (sku)
    JOIN core.suppliers AS s ON s.supplier_id = l.supplier_id
    LEFT JOIN order_weekdays AS od ON od.supplier_id = l.supplier_id
    LEFT JOIN marts.kpi_unit_cost_by_sku AS uc USING (sku)
    LEFT JOIN fx_rates_as_of AS rs ON rs.currency = s.currency
    LEFT JOIN projected_stockouts AS so USING (sku, location_id)
),
next_order_day AS (  -- the supplier's next order day on or after the as-of day
    SELECT r.sku, r.location_id, min(CAST($as_of AS DATE) + d) AS order_date
    FROM levels_with_position AS r, week_days
    WHERE len(r.weekdays) = 0
       OR list_contains(r.weekdays, lower(strftime(CAST($as_of AS DATE) + d, '%a')))
    GROUP BY ALL
),
last_order_day AS (  -- the last order day whose delivery still arrives by the stockout date
    SELECT r.sku, r.location_id, max(target - d) AS last_order_date
    FROM (SELECT *, projected_stockout_date - lead_days AS target FROM levels_with_position
          WHERE projected_stockout_date IS NOT NULL) AS r, week_days
    WHERE len(r.weekdays) = 0
       OR list_contains(r.weekdays, lower(strftime(target - d, '%a')))
    GROUP BY ALL
),
policy AS (
SELECT CAST($as_of AS DATE) AS as_of, r.sku, r.location_id, r.supplier_id,
       r.abc_class, r.xyz_class, r.service_level, r.service_level_source,
       r.lead_time_mean_days, r.lead_time_sd_days, r.lead_time_source,
       r.review_period_days, r.mean_daily_demand_units, r.safety_stock_units,
       r.reorder_point_units, r.order_up_to_units,
       r.on_hand_units, r.on_order_units, r.allocated_units, r.backorder_units,
       r.inventory_position_units, r.unit_cost_base,
       CASE WHEN r.mean_daily_demand_units > 0
            THEN greatest(r.on_hand_units - r.allocated_units - r.backorder_units, 0)
                 / r.mean_daily_demand_units END AS days_of_cover,
       r.projected_stockout_date, lo.last_order_date,
       -- beyond the contract: what the suggestions and the CLI need
       r.product_name, r.supplier_name, r.supplier_sku, r.case_pack, r.moq,
       r.unit_cost, r.currency, r.min_order_value,
       r.demand_share, r.share_source, r.lead_time_demand_units, r.season_ratio,
       r.season_days,
       coalesce(no.order_date, CAST($as_of AS DATE)) AS order_date,
       coalesce(no.order_date, CAST($as_of AS DATE)) + r.lead_days AS expected_arrival_date,
       coalesce(r.discontinued_on <= coalesce(no.order_date, CAST($as_of AS DATE)) + r.lead_days,
                false) AS is_discontinued,
       r.inventory_position_units <= r.reorder_point_units AS below_reorder_point
FROM levels_with_position AS r
LEFT JOIN next_order_day AS no USING (sku, location_id)
LEFT JOIN last_order_day AS lo USING (sku, location_id)
)
SELECT *, below_reorder_point AND order_up_to_units > inventory_position_units
          AND NOT is_discontinued AS needs_order
FROM policy
ORDER BY sku, location_id
