-- One row per channel listing whose listed quantity is above the channel's ATS.
CREATE OR REPLACE TABLE marts.oversell_risk AS
SELECT (SELECT max(as_of) FROM marts.ats_by_sku_location) AS as_of,
       l.channel_id, l.channel_sku, l.sku, l.listing_status, l.as_of AS listed_as_of,
       l.listed_quantity, coalesce(a.ats_units, 0) AS ats_units,
       l.listed_quantity - coalesce(a.ats_units, 0) AS excess_units
FROM core.channel_listings AS l
LEFT JOIN marts.ats_by_sku_channel AS a USING (channel_id, sku)
WHERE l.listed_quantity > coalesce(a.ats_units, 0)
ORDER BY excess_units DESC, l.channel_id, l.channel_sku
