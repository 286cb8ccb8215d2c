-- The location that serves a channel first (lowest priority, then location id): where a
-- return without a location is assumed to land (marts.stock_ledger) and where an order line
-- without one is allocated (marts.order_allocations). A TEMP table (one row per channel, this
-- connection only) that their build step creates just before them.
CREATE OR REPLACE TEMP TABLE first_channel_location AS
SELECT channel_id, arg_min(location_id, (priority, location_id)) AS location_id
FROM core.channel_locations
GROUP BY channel_id
