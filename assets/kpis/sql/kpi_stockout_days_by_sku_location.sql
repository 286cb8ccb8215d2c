-- Stockout days per SKU and location: snapshot days on which on_hand was 0, out of the days
-- that have a snapshot (a day without a snapshot is unknown, not in stock).
CREATE OR REPLACE TABLE marts.kpi_stockout_days_by_sku_location AS
WITH snapshot_days AS (
    SELECT sku, location_id, snapshot_date, on_hand
    FROM core.stock_snapshots
)
SELECT
    s.sku, p.category, p.supplier_id, s.location_id,
    count(*) AS days_observed,
    count(*) FILTER (WHERE s.on_hand = 0) AS stockout_days,
    count(*) FILTER (WHERE s.on_hand = 0) / count(*) AS stockout_share,
    min(s.snapshot_date) AS first_observed_on,
    max(s.snapshot_date) FILTER (WHERE s.on_hand = 0) AS last_stockout_on
FROM snapshot_days AS s
LEFT JOIN core.products AS p USING (sku)
GROUP BY ALL
ORDER BY stockout_days DESC, s.sku, s.location_id
