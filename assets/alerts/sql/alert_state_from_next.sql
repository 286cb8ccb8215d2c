-- ops.alert_state becomes alert_next_state (run after emptying it, in one transaction).
INSERT INTO ops.alert_state BY NAME
SELECT * EXCLUDE (transition) FROM alert_next_state
