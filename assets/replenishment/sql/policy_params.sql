-- The policy's inputs per SKU × location of its scope: supplier, learned lead time (SKU rows
-- of marts.lead_times) and review period. Reads the policy_scope view.
SELECT sc.sku, sc.location_id, p.supplier_id,
       lt.lead_time_mean_days, lt.lead_time_sd_days, lt.source AS lead_time_source,
       s.review_period_days
FROM policy_scope AS sc
JOIN core.products AS p USING (sku)
JOIN core.suppliers AS s ON s.supplier_id = p.supplier_id
LEFT JOIN marts.lead_times AS lt ON lt.supplier_id = p.supplier_id AND lt.sku = sc.sku
ORDER BY sku, location_id
