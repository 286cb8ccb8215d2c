-- The sinks configured over time: a sink owes only events from when it was turned on.
CREATE TABLE IF NOT EXISTS ops.alert_sinks (
  sink VARCHAR PRIMARY KEY,
  target VARCHAR,               -- where it delivers (no secrets: host or folder only)
  min_severity VARCHAR,
  min_rank INTEGER,
  enabled BOOLEAN,
  enabled_at TIMESTAMP,
  updated_at TIMESTAMP
)
