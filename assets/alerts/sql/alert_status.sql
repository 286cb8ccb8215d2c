-- Every alert key, for the dashboards: its state, times, numbers, the sinks its latest event
-- reached and the ones still owed it; open first, then the most severe, the newest.
CREATE OR REPLACE TABLE marts.alert_status AS
WITH owed AS (  -- the latest event of each alert, per sink that owes it
    SELECT e.alert_key, s.sink,
           EXISTS (SELECT 1 FROM ops.alert_deliveries AS d
                   WHERE d.event_id = e.event_id AND d.sink = s.sink
                     AND d.status = 'delivered') AS delivered
    FROM (SELECT * FROM ops.alert_events
          QUALIFY row_number() OVER (PARTITION BY alert_key ORDER BY happened_at DESC,
                                                                    severity_rank DESC) = 1) AS e
    JOIN ops.alert_sinks AS s
      ON s.enabled AND e.severity_rank >= s.min_rank AND e.happened_at >= s.enabled_at
),
sinks_by_alert AS (
    SELECT alert_key,
           string_agg(sink, ', ' ORDER BY sink) FILTER (WHERE delivered) AS delivered_to,
           string_agg(sink, ', ' ORDER BY sink) FILTER (WHERE NOT delivered) AS pending_to
    FROM owed GROUP BY alert_key
)
SELECT c.alert_key, c.alert_type, c.status,
       c.last_severity AS severity, c.last_severity_rank AS severity_rank,
       c.opened_at, c.escalated_at, c.resolved_at, c.last_seen_at, c.times_opened,
       c.as_of, c.subject, c.sku, c.location_id, c.channel_id, c.supplier_id, c.po_number,
       c.metric, c.metric_value, c.threshold, c.units, c.value, c.currency, c.value_base,
       c.message,
       b.delivered_to, b.pending_to
FROM ops.alert_state AS c
LEFT JOIN sinks_by_alert AS b USING (alert_key)
ORDER BY c.status = 'open' DESC, c.last_severity_rank DESC, c.opened_at DESC, c.alert_key
