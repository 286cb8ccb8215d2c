-- The alert conditions true now, one row per alert_key, most severe and most valuable
-- first. $severity_rank maps a severity to its rank (assets/alerts/config.py SEVERITY_RANK).
CREATE OR REPLACE TABLE marts.alerts_current AS
SELECT alert_key, alert_type, severity,
       $severity_rank[severity]::INTEGER AS severity_rank,
       (SELECT as_of FROM alert_day) AS as_of,
       subject, sku, location_id, channel_id, supplier_id, po_number, metric, metric_value,
       threshold, units, value, currency, value_base, message
FROM alerts_raised
ORDER BY severity_rank DESC, abs(value_base) DESC NULLS LAST, alert_type, alert_key
