-- The SKU × locations the policy covers: every row of marts.inventory_position whose SKU is a
-- product that is not a bundle (bundles are not ordered, their components are) and has a
-- supplier in core.suppliers. A temporary view of this connection, so every statement that
-- needs the scope reads the same one.
CREATE OR REPLACE TEMP VIEW policy_scope AS
SELECT ip.sku, ip.location_id
FROM marts.inventory_position AS ip
JOIN core.products AS p USING (sku)
JOIN core.suppliers AS s ON s.supplier_id = p.supplier_id
WHERE NOT coalesce(p.is_bundle, false)
