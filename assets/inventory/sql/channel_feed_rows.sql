-- A query, not a table: the rows of every channel's availability feed, all from one
-- marts.ats_by_sku_channel (listed SKUs under the channel's SKU; every SKU for a channel
-- without listings).
WITH listed_channels AS (SELECT DISTINCT channel_id FROM core.channel_listings),
listed AS (  -- a listed SKU with no ATS row has nothing available: 0
    SELECT l.channel_id, l.channel_sku, l.sku, coalesce(a.ats_units, 0) AS quantity
    FROM core.channel_listings AS l
    LEFT JOIN marts.ats_by_sku_channel AS a USING (channel_id, sku)
),
unlisted AS (  -- a channel without listings gets every SKU it can sell, under our SKU
    SELECT a.channel_id, a.sku AS channel_sku, a.sku, a.ats_units AS quantity
    FROM marts.ats_by_sku_channel AS a
    ANTI JOIN listed_channels AS lc USING (channel_id)
)
SELECT (SELECT max(as_of) FROM marts.ats_by_sku_channel) AS as_of,
       channel_id, channel_sku, sku, quantity::BIGINT AS quantity
FROM (SELECT * FROM listed UNION ALL SELECT * FROM unlisted)
ORDER BY channel_id, channel_sku, sku
