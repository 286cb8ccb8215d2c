-- Append this run's attempts (new_attempts, registered by assets/alerts/state.py;
-- run_attempt 1, 2, ... within the run) to the delivery log, numbering attempt on from
-- earlier runs per event and sink. $run_id names the run.
INSERT INTO ops.alert_deliveries BY NAME
SELECT n.event_id, n.alert_key, n.sink,
       (coalesce(prior.attempts, 0) + n.run_attempt)::INTEGER AS attempt,
       n.status, n.http_status, n.error, n.target, n.attempted_at, n.duration_ms,
       $run_id AS run_id
FROM new_attempts AS n
LEFT JOIN (SELECT event_id, sink, max(attempt) AS attempts FROM ops.alert_deliveries
           GROUP BY ALL) AS prior USING (event_id, sink)
