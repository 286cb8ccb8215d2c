-- Stockouts per snapshot day and location: SKUs observed and SKUs with on_hand = 0, the
-- daily trend behind kpi_stockout_days_by_sku_location.
CREATE OR REPLACE TABLE marts.kpi_stockouts_daily AS
WITH snapshot_days AS (
    SELECT snapshot_date, location_id, sku, on_hand
    FROM core.stock_snapshots
)
SELECT
    snapshot_date,
    location_id,
    count(*) AS skus_observed,
    count(*) FILTER (WHERE on_hand = 0) AS skus_out_of_stock,
    count(*) FILTER (WHERE on_hand = 0) / count(*) AS out_of_stock_share
FROM snapshot_days
GROUP BY ALL
ORDER BY snapshot_date, location_id
