-- Which rules ran, which were skipped and why, and how many alerts each raised by severity.
-- alert_rule_frame (registered by assets/alerts/rules.py): one row per rule, in reading order.
CREATE OR REPLACE TABLE marts.alert_rules AS
SELECT r.alert_type, r.evaluated, r.skipped_reason,
       count(a.alert_key) AS alerts,
       count(a.alert_key) FILTER (WHERE a.severity = 'critical') AS critical,
       count(a.alert_key) FILTER (WHERE a.severity = 'warning') AS warning,
       count(a.alert_key) FILTER (WHERE a.severity = 'info') AS info,
       r.rule, r.reads
FROM alert_rule_frame AS r
LEFT JOIN marts.alerts_current AS a ON a.alert_type = r.alert_type
GROUP BY r.position, r.alert_type, r.evaluated, r.skipped_reason, r.rule, r.reads
ORDER BY r.position
