-- Every delivery attempt, newest first, with the event it carried.
CREATE OR REPLACE TABLE marts.alert_delivery_log AS
SELECT d.attempted_at, d.sink, d.status, d.attempt, d.http_status, d.error, d.target,
       e.transition, e.severity, e.alert_type, d.alert_key, e.subject, e.message,
       d.duration_ms, d.event_id, d.run_id
FROM ops.alert_deliveries AS d
LEFT JOIN ops.alert_events AS e USING (event_id)
ORDER BY d.attempted_at DESC, d.sink, d.alert_key
