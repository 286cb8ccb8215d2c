-- One row per channel x SKU, bundles too: the serving locations' ATS less the channel's
-- safety buffer, never below 0. Reads temp.channel_buffers (channel_buffers.sql).
CREATE OR REPLACE TABLE marts.ats_by_sku_channel AS
WITH location_sums AS (
    SELECT cl.channel_id, a.sku, count(*) AS locations,
           sum(a.on_hand_units)::BIGINT AS on_hand_units,
           sum(a.allocated_units)::BIGINT AS allocated_units,
           sum(a.reserved_units)::BIGINT AS reserved_units,
           sum(a.ats_units)::BIGINT AS location_ats_units
    FROM core.channel_locations AS cl
    JOIN marts.ats_by_sku_location AS a ON a.location_id = cl.location_id AND NOT a.is_bundle
    GROUP BY cl.channel_id, a.sku
),
item_buffers AS (  -- the larger of the fixed and the percentage buffer, percentages rounded up
    SELECT ls.*,
           greatest(coalesce(b.buffer_units, 0),
                    ceil(coalesce(b.buffer_pct, 0) * ls.location_ats_units))::BIGINT
               AS safety_buffer_units
    FROM location_sums AS ls
    LEFT JOIN temp.channel_buffers AS b USING (channel_id)
),
item_channel AS (
    SELECT *, greatest(location_ats_units - safety_buffer_units, 0)::BIGINT AS ats_units
    FROM item_buffers
),
bundle_channel AS (
    -- from the components' channel ATS (buffer already kept back), so a bundle never shows
    -- more than its scarcest component allows
    SELECT ch.channel_id, bc.bundle_sku AS sku,
           min(coalesce(i.ats_units // nullif(bc.units_per_bundle, 0), 0))::BIGINT AS ats_units
    FROM core.bundle_components AS bc
    CROSS JOIN (SELECT DISTINCT channel_id FROM core.channel_locations) AS ch
    LEFT JOIN item_channel AS i ON i.channel_id = ch.channel_id AND i.sku = bc.component_sku
    GROUP BY ch.channel_id, bc.bundle_sku
)
SELECT (SELECT max(as_of) FROM marts.ats_by_sku_location) AS as_of,
       channel_id, sku, false AS is_bundle, locations, on_hand_units, allocated_units,
       reserved_units, location_ats_units, safety_buffer_units, ats_units
FROM item_channel
UNION ALL
SELECT (SELECT max(as_of) FROM marts.ats_by_sku_location), channel_id, sku, true,
       NULL, NULL, NULL, NULL, NULL, NULL, ats_units
FROM bundle_channel
ORDER BY channel_id, sku
