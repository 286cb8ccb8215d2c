WITH offer AS (
    SELECT channel_id, sku, on_hand_units AS on_hand, ats_units AS ats
    FROM marts.ats_by_sku_channel
)
SELECT channel_id, count(*) AS skus,
       count(*) FILTER (WHERE ats > on_hand) AS ats_above_on_hand_rows,
       arg_max(sku, ats - on_hand) AS worst_sku,
       arg_max(ats, ats - on_hand) AS worst_ats,
       arg_max(on_hand, ats - on_hand) AS worst_on_hand,
       count(*) FILTER (WHERE ats < 0) AS negative_ats_rows,
       min(ats) AS min_ats,
       arg_min(sku, ats) AS lowest_sku,
       count(*) - count(DISTINCT sku) AS duplicate_rows
FROM offer GROUP BY channel_id ORDER BY channel_id
