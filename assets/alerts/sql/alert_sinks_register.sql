-- Record the configured sinks (configured_sinks, registered by assets/alerts/state.py) in
-- ops.alert_sinks; a sink no longer configured is turned off. A sink seen for the first time,
-- or turned back on, owes events from $now on (not the backlog of its time off).
MERGE INTO ops.alert_sinks AS s
USING (SELECT c.*, true AS enabled FROM configured_sinks AS c
       UNION ALL BY NAME
       SELECT s.sink, false AS enabled FROM ops.alert_sinks AS s
       ANTI JOIN configured_sinks AS c USING (sink)) AS c
ON s.sink = c.sink
WHEN MATCHED AND c.enabled THEN UPDATE SET
    target = c.target, min_severity = c.min_severity, min_rank = c.min_rank,
    -- turned back on: it owes what happens from now, not the backlog of its time off
    enabled_at = CASE WHEN s.enabled THEN s.enabled_at ELSE $now END,
    enabled = true, updated_at = $now
WHEN MATCHED THEN UPDATE SET enabled = false, updated_at = $now
WHEN NOT MATCHED THEN INSERT (sink, target, min_severity, min_rank, enabled, enabled_at, updated_at)
    VALUES (c.sink, c.target, c.min_severity, c.min_rank, true, $now, $now)
