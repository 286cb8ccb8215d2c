CREATE OR REPLACE TABLE marts.daily_demand_by_sku AS
WITH accepted_lines AS (  -- a cancelled line is no demand; quantity 0 only on cancelled lines
    SELECT sku, CAST(ordered_at AS DATE) AS date, quantity
    FROM core.order_lines
    WHERE status <> 'cancelled' AND quantity > 0
),
attributed AS (  -- a bundle sale is demand for each component × units per bundle
    SELECT coalesce(bc.component_sku, l.sku) AS sku, l.date,
           l.quantity * coalesce(bc.units_per_bundle, 1) AS units,
           CASE WHEN bc.bundle_sku IS NULL THEN l.quantity ELSE 0 END AS units_direct
    FROM accepted_lines AS l
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = l.sku
),
demand AS (
    SELECT sku, date, sum(units) AS units, sum(units_direct) AS units_direct,
           count(*) AS order_lines
    FROM attributed
    GROUP BY sku, date
),
location_days AS (
    -- a snapshot row says the SKU is in the location's assortment; a location that never had
    -- free stock of it in the whole history does not carry it (zero rows, not stockouts)
    SELECT sku, location_id, snapshot_date AS date,
           greatest(on_hand - coalesce(reserved, 0), 0) AS free_units,
           max(on_hand - coalesce(reserved, 0)) OVER (PARTITION BY sku, location_id) > 0
               AS stocks_it
    FROM core.stock_snapshots
),
free_stock AS (  -- end-of-day free stock per SKU, and how many stocking locations had none
    SELECT sku, date,
           sum(free_units) AS free_stock_units,
           count(*) FILTER (WHERE stocks_it) AS stocked_locations,
           count(*) FILTER (WHERE stocks_it AND free_units <= 0) AS out_locations
    FROM location_days
    GROUP BY sku, date
)
SELECT coalesce(d.sku, s.sku) AS sku,
       coalesce(d.date, s.date) AS date,
       coalesce(d.units, 0)::BIGINT AS units,
       coalesce(d.units_direct, 0)::BIGINT AS units_direct,
       (coalesce(d.units, 0) - coalesce(d.units_direct, 0))::BIGINT AS units_from_bundles,
       coalesce(d.order_lines, 0)::BIGINT AS order_lines,
       s.free_stock_units::BIGINT AS free_stock_units,
       s.stocked_locations::BIGINT AS stocked_locations,
       s.out_locations::BIGINT AS out_locations,
       s.out_locations > 0 AS stockout  -- null: no snapshot that day (unknown, not censored)
FROM demand AS d
FULL JOIN free_stock AS s ON s.sku = d.sku AND s.date = d.date
ORDER BY sku, date
