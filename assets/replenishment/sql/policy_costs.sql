-- What a fill-rate target needs per SKU: case pack, MOQ and unit cost (base currency per
-- unit, null when unknown).
SELECT p.sku, p.case_pack, p.moq, uc.unit_cost_base AS unit_cost
FROM core.products AS p
LEFT JOIN marts.kpi_unit_cost_by_sku AS uc USING (sku)
