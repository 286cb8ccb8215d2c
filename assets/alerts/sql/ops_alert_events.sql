-- Every change that is announced: what the sinks deliver. The alert columns are
-- ALERT_COLUMNS of assets/alerts/rules.py less severity and severity_rank.
CREATE TABLE IF NOT EXISTS ops.alert_events (
  event_id VARCHAR PRIMARY KEY, -- md5 of key, transition, episode, severity
  transition VARCHAR,           -- opened | escalated | resolved
  happened_at TIMESTAMP,
  severity VARCHAR,             -- resolved: the severity it was announced at
  severity_rank INTEGER,
  alert_key VARCHAR,
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
  message VARCHAR
)
