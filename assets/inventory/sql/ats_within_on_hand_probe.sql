WITH stock AS (
    SELECT location_id, sku, on_hand_units AS on_hand, ats_units AS ats,
           -- DuckDB's greatest() skips NULLs: keep a bundle's "free" unknown
           CASE WHEN on_hand_units IS NOT NULL
                THEN greatest(0, on_hand_units - coalesce(allocated_units, 0)
                                 - coalesce(reserved_units, 0))
           END AS free
    FROM marts.ats_by_sku_location
)
SELECT location_id, count(*) AS skus,
       -- NULL on hand (a bundle) compares as unknown: not counted
       count(*) FILTER (WHERE ats > on_hand) AS ats_above_on_hand_rows,
       count(*) FILTER (WHERE ats > free) AS ats_above_free_rows,
       count(*) FILTER (WHERE ats < 0) AS negative_ats_rows,
       arg_max(sku, ats - on_hand) AS worst_sku,
       arg_max(ats, ats - on_hand) AS worst_ats,
       arg_max(on_hand, ats - on_hand) AS worst_on_hand
FROM stock GROUP BY location_id ORDER BY location_id
