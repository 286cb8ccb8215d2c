-- The alerts the rules raise in this evaluation, before they are ranked and dated: every
-- rule appends its rows (rule_<alert_type>.sql), a rule leaves out what it has not got
-- (NULL). The columns are ALERT_COLUMNS of assets/alerts/rules.py less severity_rank and
-- as_of, which alerts_current.sql adds.
CREATE OR REPLACE TEMP TABLE alerts_raised (
    alert_key VARCHAR,       -- stable across runs: <alert_type>:<subject ids>
    alert_type VARCHAR,
    severity VARCHAR,        -- info | warning | critical
    subject VARCHAR,         -- what it is about, in words: "SKU-1 at WH1"
    sku VARCHAR,
    location_id VARCHAR,
    channel_id VARCHAR,
    supplier_id VARCHAR,
    po_number VARCHAR,
    metric VARCHAR,          -- the number the rule tests ...
    metric_value DOUBLE,
    threshold DOUBLE,        -- ... and the limit it was tested against
    units BIGINT,            -- the units at stake (short, excess, idle, off, outstanding)
    value DOUBLE,            -- their value in `currency`
    currency VARCHAR,
    value_base DOUBLE,       -- their value in the base currency
    message VARCHAR          -- one sentence operations read at a glance
)
