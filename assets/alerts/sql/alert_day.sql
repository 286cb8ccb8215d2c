-- The alerts' business date: the latest stock snapshot (else the latest order day). Data
-- time, not wall-clock time: the same inputs give the same alerts. A temporary table of this
-- connection, read by the rules and by alerts_current.
CREATE OR REPLACE TEMP TABLE alert_day AS
SELECT coalesce((SELECT max(snapshot_date) FROM core.stock_snapshots),
                (SELECT CAST(max(ordered_at) AS DATE) FROM core.order_lines)) AS as_of
