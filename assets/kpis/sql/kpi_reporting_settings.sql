-- The settings the KPI marts were computed with, for the pages to name them: the base
-- currency of every *_base amount and the reporting time zone of every day, week and month.
CREATE OR REPLACE TABLE marts.kpi_reporting_settings AS
SELECT $base_currency::VARCHAR AS base_currency, $timezone::VARCHAR AS timezone
