-- Each alert key's next state, and the transition that leads there: opened (new, or back
-- after being resolved), escalated (severity above the highest already announced), ongoing,
-- resolved (its rule ran and the condition is gone), unchanged (already resolved, or its rule
-- did not run). $now (UTC, naive) stamps the times. A temporary table of this connection.
CREATE OR REPLACE TEMP TABLE alert_next_state AS
WITH evaluated_rules AS (SELECT alert_type FROM marts.alert_rules WHERE evaluated),
transitions AS (
    SELECT coalesce(c.alert_key, p.alert_key) AS alert_key,
           CASE WHEN c.alert_key IS NOT NULL AND coalesce(p.status, 'resolved') = 'resolved'
                    THEN 'opened'
                WHEN c.alert_key IS NOT NULL AND c.severity_rank > p.notified_rank
                    THEN 'escalated'
                WHEN c.alert_key IS NOT NULL THEN 'ongoing'
                WHEN p.status = 'open' AND p.alert_type IN (SELECT alert_type FROM evaluated_rules)
                    THEN 'resolved'
                ELSE 'unchanged' END AS transition
    FROM marts.alerts_current AS c
    FULL JOIN ops.alert_state AS p USING (alert_key)
),
seen AS (  -- raised now: the numbers and message are today's
    SELECT t.transition, c.* EXCLUDE (severity, severity_rank),
           'open' AS status, c.severity AS last_severity, c.severity_rank AS last_severity_rank,
           CASE WHEN t.transition = 'ongoing' THEN p.notified_severity ELSE c.severity END
               AS notified_severity,
           CASE WHEN t.transition = 'ongoing' THEN p.notified_rank ELSE c.severity_rank END
               AS notified_rank,
           CASE WHEN t.transition = 'opened' THEN $now ELSE p.opened_at END AS opened_at,
           CASE WHEN t.transition = 'escalated' THEN $now
                WHEN t.transition = 'ongoing' THEN p.escalated_at END AS escalated_at,
           $now AS last_seen_at,
           NULL::TIMESTAMP AS resolved_at,
           coalesce(p.times_opened, 0) + (t.transition = 'opened')::INTEGER AS times_opened
    FROM transitions AS t
    JOIN marts.alerts_current AS c USING (alert_key)
    LEFT JOIN ops.alert_state AS p USING (alert_key)
),
not_seen AS (  -- resolved now, or left as it was (already resolved; rule did not run)
    SELECT t.transition,
           p.* REPLACE (CASE WHEN t.transition = 'resolved' THEN 'resolved' ELSE p.status END
                            AS status,
                        CASE WHEN t.transition = 'resolved' THEN $now ELSE p.resolved_at END
                            AS resolved_at)
    FROM transitions AS t
    JOIN ops.alert_state AS p USING (alert_key)
    WHERE t.transition IN ('resolved', 'unchanged')
)
SELECT * FROM seen UNION ALL BY NAME SELECT * FROM not_seen
