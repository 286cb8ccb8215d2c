-- Each SKU's ABC and XYZ class.
SELECT sku, abc, xyz FROM marts.demand_segments
