-- The delivery log: every attempt, successful or not.
CREATE TABLE IF NOT EXISTS ops.alert_deliveries (
  event_id VARCHAR,
  alert_key VARCHAR,
  sink VARCHAR,
  attempt INTEGER,              -- 1, 2, ... per event and sink, across runs
  status VARCHAR,               -- delivered | failed
  http_status INTEGER,
  error VARCHAR,
  target VARCHAR,               -- file written, host posted to, recipients
  attempted_at TIMESTAMP,
  duration_ms DOUBLE,
  run_id VARCHAR
)
