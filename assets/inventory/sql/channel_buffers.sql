-- The safety buffer each channel keeps back: buffer_units (units) and buffer_pct (a share
-- 0..1 of the channel's ATS). shelfwise.toml [channels.<id>] overrides core.channels, field by
-- field; the overrides arrive as the registered frame channel_buffer_overrides (values, never
-- SQL text). Read by marts.ats_by_sku_channel and marts.oversell_events: a TEMP table (one row
-- per channel, this connection only) that their build step creates just before them.
CREATE OR REPLACE TEMP TABLE channel_buffers AS
SELECT c.channel_id,
       coalesce(o.safety_buffer_units, c.safety_buffer_units, 0) AS buffer_units,
       coalesce(o.safety_buffer_pct, c.safety_buffer_pct, 0) AS buffer_pct
FROM core.channels AS c
LEFT JOIN channel_buffer_overrides AS o USING (channel_id)
