-- Projected on hand per SKU × location and day as forecasting.policy.project_stock computed
-- it (_frame).
CREATE OR REPLACE TABLE marts.projected_stock AS
SELECT * FROM _frame
