WITH rates AS (  -- the latest rate on or before the as-of day per currency; the base is 1
    SELECT currency, arg_max(rate_to_base, rate_date) AS rate
    FROM core.fx_rates
    WHERE rate_date <= $as_of AND currency <> $base_currency
    GROUP BY currency
    UNION ALL SELECT $base_currency, 1.0
),
converted AS (
    SELECT p.sku, p.category,
           p.unit_cost * rc.rate AS unit_cost_base,
           p.list_price * rp.rate AS list_price_base
    FROM core.products AS p
    LEFT JOIN rates AS rc ON rc.currency = coalesce(p.cost_currency, $base_currency)
    LEFT JOIN rates AS rp ON rp.currency = coalesce(p.price_currency, $base_currency)
)
SELECT sku, category,
       coalesce(unit_cost_base, list_price_base) AS unit_value,
       CASE WHEN unit_cost_base IS NOT NULL THEN 'unit_cost'
            WHEN list_price_base IS NOT NULL THEN 'list_price' END AS unit_value_source
FROM converted
ORDER BY sku
