-- Every (event, enabled sink) pair not delivered yet: the sink's name, then the event's
-- columns. Events below a sink's min_severity, or from before it was turned on, are not owed.
SELECT s.sink, e.*
FROM ops.alert_events AS e
JOIN ops.alert_sinks AS s
  ON s.enabled AND e.severity_rank >= s.min_rank AND e.happened_at >= s.enabled_at
ANTI JOIN (SELECT DISTINCT event_id, sink FROM ops.alert_deliveries WHERE status = 'delivered')
    AS d ON d.event_id = e.event_id AND d.sink = s.sink
ORDER BY s.sink, e.happened_at, e.severity_rank DESC, e.alert_key, e.transition
