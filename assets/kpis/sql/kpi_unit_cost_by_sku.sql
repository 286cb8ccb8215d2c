-- Unit cost per SKU in the base currency: the master-data cost converted at the latest FX
-- rate of its currency; where master data has no cost, the cost on the SKU's latest
-- purchase order line. Stock value, COGS and dead-stock value all use this one cost.
CREATE OR REPLACE TABLE marts.kpi_unit_cost_by_sku AS
WITH latest_fx AS (
    SELECT currency, arg_max(rate_to_base, rate_date) AS rate_to_base
    FROM core.fx_rates
    GROUP BY currency
),
latest_po_cost AS (
    SELECT sku, arg_max(unit_cost_base, ordered_at) AS unit_cost_base
    FROM core.purchase_orders
    WHERE unit_cost_base IS NOT NULL
    GROUP BY sku
),
master_cost AS (
    -- a cost without a currency, or in the base currency, needs no conversion
    SELECT
        p.sku,
        CASE WHEN p.cost_currency IS NULL OR p.cost_currency = $base_currency THEN p.unit_cost
             ELSE p.unit_cost * fx.rate_to_base END AS unit_cost_base
    FROM core.products AS p
    LEFT JOIN latest_fx AS fx ON fx.currency = p.cost_currency
)
SELECT
    p.sku, p.name, p.category, p.supplier_id, p.is_bundle,
    coalesce(m.unit_cost_base, po.unit_cost_base) AS unit_cost_base,
    CASE WHEN m.unit_cost_base IS NOT NULL THEN 'master data'
         WHEN po.unit_cost_base IS NOT NULL THEN 'latest purchase order' END AS cost_source
FROM core.products AS p
LEFT JOIN master_cost AS m USING (sku)
LEFT JOIN latest_po_cost AS po USING (sku)
ORDER BY p.sku
