-- Return rate per SKU over the whole history, and the rank of the SKUs with the highest
-- return rate among those that shipped at least $min_return_volume units (a SKU with 1 of 1
-- units returned is noise, not a problem product). A SKU with no return is never ranked: a
-- list of "top products by return rate" must not show products nobody returned.
CREATE OR REPLACE TABLE marts.kpi_return_rate_by_sku AS
WITH sku_totals AS (
    SELECT
        sku,
        sum(shipped_units)::BIGINT AS units_shipped,
        sum(returned_units)::BIGINT AS units_returned,
        sum(shipped_value_base) AS value_shipped_base,
        sum(returned_value_base) AS value_returned_base
    FROM marts.kpi_order_line_facts
    WHERE shipped_units > 0
    GROUP BY sku
),
sku_rates AS (
    SELECT
        *,
        units_returned / units_shipped AS return_rate_units,
        value_returned_base / nullif(value_shipped_base, 0) AS return_rate_value,
        units_shipped >= $min_return_volume AS meets_min_volume,
        units_shipped >= $min_return_volume AND units_returned > 0 AS ranked
    FROM sku_totals
)
SELECT
    r.sku, p.name, p.category,
    r.units_shipped, r.units_returned, r.return_rate_units,
    r.value_shipped_base, r.value_returned_base, r.return_rate_value,
    r.meets_min_volume,
    CASE WHEN r.ranked THEN
        row_number() OVER (
            PARTITION BY r.ranked
            ORDER BY r.return_rate_units DESC, r.units_returned DESC, r.sku
        )
    END AS return_rate_rank
FROM sku_rates AS r
LEFT JOIN core.products AS p USING (sku)
ORDER BY return_rate_rank NULLS LAST, r.sku
