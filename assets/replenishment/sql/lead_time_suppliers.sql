-- The suppliers' master lead times: the fallback where the history is too short.
SELECT supplier_id, lead_time_days_mean, lead_time_days_sd FROM core.suppliers
