-- One row per SKU x location, bundles too: units available to sell = on hand - allocated -
-- reserved, never below 0; a bundle's from its scarcest component.
CREATE OR REPLACE TABLE marts.ats_by_sku_location AS
WITH as_of AS (SELECT max(snapshot_date) AS as_of FROM core.stock_snapshots),
allocated AS (
    SELECT sku, location_id, sum(units)::BIGINT AS allocated_units
    FROM marts.order_allocations
    WHERE location_id IS NOT NULL
    GROUP BY sku, location_id
),
item_stock AS (  -- allocations without a stock row are allocations against 0 on hand
    SELECT coalesce(s.sku, a.sku) AS sku, coalesce(s.location_id, a.location_id) AS location_id,
           coalesce(s.on_hand_units, 0) AS on_hand_units,
           coalesce(a.allocated_units, 0) AS allocated_units,
           coalesce(s.reserved_units, 0) AS reserved_units
    FROM marts.stock_on_hand AS s
    FULL JOIN allocated AS a ON a.sku = s.sku AND a.location_id = s.location_id
),
item_ats AS (
    SELECT *, greatest(on_hand_units - allocated_units - reserved_units, 0)::BIGINT AS ats_units
    FROM item_stock
),
bundle_ats AS (  -- a missing component counts as 0 available: the bundle cannot be built
    SELECT bc.bundle_sku AS sku, l.location_id,
           min(coalesce(i.ats_units // nullif(bc.units_per_bundle, 0), 0))::BIGINT AS ats_units
    FROM core.bundle_components AS bc
    CROSS JOIN (SELECT DISTINCT location_id FROM item_ats) AS l
    LEFT JOIN item_ats AS i ON i.sku = bc.component_sku AND i.location_id = l.location_id
    GROUP BY bc.bundle_sku, l.location_id
)
SELECT (SELECT as_of FROM as_of) AS as_of, sku, location_id, false AS is_bundle,
       on_hand_units, allocated_units, reserved_units, ats_units
FROM item_ats
UNION ALL
SELECT (SELECT as_of FROM as_of), sku, location_id, true, NULL, NULL, NULL, ats_units
FROM bundle_ats
ORDER BY sku, location_id
