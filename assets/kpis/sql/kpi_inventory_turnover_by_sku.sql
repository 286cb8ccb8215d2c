-- Inventory turnover and days of supply per SKU over the trailing $turnover_window_days
-- days that end on the latest snapshot date. Bundles ship as their components, so COGS is
-- counted on the component SKUs that actually sit on the shelf.
CREATE OR REPLACE TABLE marts.kpi_inventory_turnover_by_sku AS
WITH window_bounds AS (
    SELECT
        max(snapshot_date) AS as_of_date,
        greatest(max(snapshot_date) - ($turnover_window_days - 1), min(snapshot_date)) AS start_date
    FROM core.stock_snapshots
),
window_length AS (
    SELECT *, (as_of_date - start_date + 1) AS window_days,
           (SELECT count(DISTINCT snapshot_date) FROM core.stock_snapshots, window_bounds AS b
            WHERE snapshot_date BETWEEN b.start_date AND b.as_of_date) AS snapshot_days
    FROM window_bounds
),
shipped_in_window AS (
    SELECT f.sku, f.shipped_units
    FROM marts.kpi_order_line_facts AS f, window_length AS w
    WHERE f.shipped_units > 0 AND f.ship_date BETWEEN w.start_date AND w.as_of_date
),
shipped_component_units AS (
    -- a bundle line becomes units_per_bundle units of each component; other lines stay
    SELECT coalesce(b.component_sku, s.sku) AS sku,
           sum(s.shipped_units * coalesce(b.units_per_bundle, 1))::BIGINT AS units_shipped
    FROM shipped_in_window AS s
    LEFT JOIN core.bundle_components AS b ON b.bundle_sku = s.sku
    GROUP BY ALL
),
stock_in_window AS (
    -- unit-days on hand summed over locations; divided by the snapshot days this is the
    -- average stock, and stays additive across SKUs and locations
    SELECT s.sku, sum(s.on_hand) AS on_hand_unit_days
    FROM core.stock_snapshots AS s, window_length AS w
    WHERE s.snapshot_date BETWEEN w.start_date AND w.as_of_date
    GROUP BY s.sku
),
current_stock AS (
    -- each location's latest snapshot of the SKU
    SELECT sku, sum(on_hand)::BIGINT AS on_hand_units
    FROM (SELECT sku, location_id, arg_max(on_hand, snapshot_date) AS on_hand
          FROM core.stock_snapshots GROUP BY ALL)
    GROUP BY sku
),
sku_measures AS (
    SELECT
        c.sku, c.name, c.category, c.supplier_id, c.unit_cost_base,
        coalesce(sh.units_shipped, 0) AS units_shipped,
        coalesce(st.on_hand_unit_days, 0) / w.snapshot_days AS average_on_hand_units,
        coalesce(cs.on_hand_units, 0) AS on_hand_units,
        w.start_date, w.as_of_date, w.window_days
    FROM marts.kpi_unit_cost_by_sku AS c
    CROSS JOIN window_length AS w
    LEFT JOIN shipped_component_units AS sh USING (sku)
    LEFT JOIN stock_in_window AS st USING (sku)
    LEFT JOIN current_stock AS cs USING (sku)
    WHERE NOT c.is_bundle AND (sh.sku IS NOT NULL OR st.sku IS NOT NULL OR cs.sku IS NOT NULL)
)
SELECT
    sku, name, category, supplier_id, start_date, as_of_date, window_days,
    units_shipped,
    units_shipped * unit_cost_base AS cogs_base,
    average_on_hand_units,
    average_on_hand_units * unit_cost_base AS average_inventory_value_base,
    on_hand_units,
    on_hand_units * unit_cost_base AS inventory_value_base,
    -- annualised: COGS of the window scaled to 365 days over the average stock value
    (units_shipped * unit_cost_base) * 365.0 / window_days
        / nullif(average_on_hand_units * unit_cost_base, 0) AS turnover_annualised,
    -- today's stock over the window's average daily shipments; NULL when nothing shipped
    on_hand_units / nullif(units_shipped / window_days, 0) AS days_of_supply
FROM sku_measures
ORDER BY sku
