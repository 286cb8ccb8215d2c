-- One row per alert key ever raised: its current episode (a resolved key that comes back
-- opens a new episode in the same row; ops.alert_events keeps the history). The alert
-- columns are ALERT_COLUMNS of assets/alerts/rules.py less severity and severity_rank.
CREATE TABLE IF NOT EXISTS ops.alert_state (
  alert_key VARCHAR PRIMARY KEY,
  alert_type VARCHAR,
  as_of DATE,
  subject VARCHAR,
  sku VARCHAR,
  location_id VARCHAR,
  channel_id VARCHAR,
  supplier_id VARCHAR,
  po_number VARCHAR,
  metric VARCHAR,
  metric_value DOUBLE,
  threshold DOUBLE,
  units BIGINT,
  value DOUBLE,
  currency VARCHAR,
  value_base DOUBLE,
  message VARCHAR,
  status VARCHAR,               -- open | resolved
  last_severity VARCHAR,        -- as last seen
  last_severity_rank INTEGER,
  notified_severity VARCHAR,    -- the highest announced in this episode
  notified_rank INTEGER,
  opened_at TIMESTAMP,          -- UTC, wall clock
  escalated_at TIMESTAMP,
  last_seen_at TIMESTAMP,
  resolved_at TIMESTAMP,
  times_opened INTEGER
)
