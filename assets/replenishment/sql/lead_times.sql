-- Lead time per supplier and SKU as forecasting.policy.lead_time_stats computed it (_frame).
CREATE OR REPLACE TABLE marts.lead_times AS
SELECT * FROM _frame
