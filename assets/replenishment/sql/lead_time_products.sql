-- The products that are ordered (not bundles, with a supplier) and their master lead time.
SELECT sku, supplier_id, lead_time_days
FROM core.products
WHERE NOT coalesce(is_bundle, false) AND supplier_id IS NOT NULL
