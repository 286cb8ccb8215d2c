-- Dead stock: SKU x location stock on hand (latest snapshot) of SKUs with no sale in the
-- last $dead_stock_days days, valued at unit cost. A sale of a bundle is a sale of its
-- components. SKUs stocked for less than $dead_stock_days days are not dead yet. A sale's
-- day is its local day in the reporting time zone $timezone.
CREATE OR REPLACE TABLE marts.kpi_dead_stock_by_sku_location AS
WITH as_of AS (
    SELECT max(snapshot_date) AS as_of_date FROM core.stock_snapshots
),
component_sales AS (
    SELECT coalesce(b.component_sku, l.sku) AS sku, l.ordered_at
    FROM core.order_lines AS l
    LEFT JOIN core.bundle_components AS b ON b.bundle_sku = l.sku
    WHERE l.status <> 'cancelled'
),
last_sale AS (
    SELECT sku, max(local_time(ordered_at, $timezone))::DATE AS last_sold_on
    FROM component_sales GROUP BY sku
),
latest_stock AS (
    SELECT sku, location_id,
           arg_max(on_hand, snapshot_date) AS on_hand,
           max(snapshot_date) AS snapshot_date
    FROM core.stock_snapshots
    GROUP BY ALL
),
first_stocked AS (
    SELECT sku, min(snapshot_date) AS first_stocked_on FROM core.stock_snapshots GROUP BY sku
)
SELECT
    s.sku, c.name, c.category, c.supplier_id, s.location_id,
    s.on_hand AS on_hand_units,
    c.unit_cost_base,
    s.on_hand * c.unit_cost_base AS dead_stock_value_base,
    ls.last_sold_on,
    a.as_of_date - coalesce(ls.last_sold_on, f.first_stocked_on) AS days_without_sale,
    s.snapshot_date AS stock_as_of
FROM latest_stock AS s
CROSS JOIN as_of AS a
JOIN first_stocked AS f USING (sku)
LEFT JOIN last_sale AS ls USING (sku)
LEFT JOIN marts.kpi_unit_cost_by_sku AS c USING (sku)
WHERE s.on_hand > 0
  AND a.as_of_date - coalesce(ls.last_sold_on, f.first_stocked_on) >= $dead_stock_days
ORDER BY dead_stock_value_base DESC NULLS LAST, s.sku, s.location_id
