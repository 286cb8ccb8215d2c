-- Append each announced change (opened, escalated, resolved) of alert_next_state to
-- ops.alert_events; event_id is the md5 of key, transition, episode and severity (resolved:
-- the resolution time), so a re-run adds nothing. $now stamps happened_at.
INSERT INTO ops.alert_events BY NAME
SELECT md5(alert_key || '|' || transition || '|' || CAST(opened_at AS VARCHAR) || '|'
           || CASE WHEN transition = 'resolved' THEN CAST(resolved_at AS VARCHAR)
                   ELSE last_severity END) AS event_id,
       transition, $now AS happened_at,
       CASE WHEN transition = 'resolved' THEN notified_severity ELSE last_severity END
           AS severity,
       CASE WHEN transition = 'resolved' THEN notified_rank ELSE last_severity_rank END
           AS severity_rank,
       alert_key, alert_type, as_of, subject, sku, location_id, channel_id, supplier_id,
       po_number, metric, metric_value, threshold, units, value, currency, value_base, message
FROM alert_next_state
WHERE transition IN ('opened', 'escalated', 'resolved')
ON CONFLICT DO NOTHING
