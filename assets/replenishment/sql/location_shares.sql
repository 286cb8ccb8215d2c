-- Each location's share of its SKU's units shipped in the $days days up to $as_of (bundles
-- counted as their components), for every SKU × location of the policy's scope; an equal
-- split over the SKU's locations when none of them shipped any. Shares of a SKU sum to 1.
-- Reads the policy_scope view (policy_scope.sql).
WITH shipped_units AS (  -- units shipped per SKU and location in the window
    SELECT coalesce(bc.component_sku, f.sku) AS sku, f.location_id,
           sum(f.quantity * coalesce(bc.units_per_bundle, 1)) AS units
    FROM core.fulfillment_events AS f
    LEFT JOIN core.bundle_components AS bc ON bc.bundle_sku = f.sku
    WHERE f.event_type = 'shipped'
      AND CAST(f.event_at AS DATE) > $as_of - CAST($days AS INTEGER)
      AND CAST(f.event_at AS DATE) <= $as_of
    GROUP BY ALL
),
shipped_by_location AS (
    SELECT s.sku, s.location_id, coalesce(sh.units, 0)::BIGINT AS shipped_units,
           sum(coalesce(sh.units, 0)) OVER (PARTITION BY s.sku) AS sku_units,
           count(*) OVER (PARTITION BY s.sku) AS locations
    FROM policy_scope AS s
    LEFT JOIN shipped_units AS sh USING (sku, location_id)
)
SELECT sku, location_id, shipped_units,
       CASE WHEN sku_units > 0 THEN shipped_units / sku_units ELSE 1.0 / locations END AS share,
       CASE WHEN sku_units > 0 THEN 'shipped' ELSE 'equal_split' END AS share_source
FROM shipped_by_location
ORDER BY sku, location_id
