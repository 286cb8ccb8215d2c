-- one planner override; the table's CHECKs guard the rules add_override also checks
INSERT INTO ops.forecast_overrides
    (sku, start_date, end_date, multiplier, quantity, note, created_at, created_by)
VALUES ($sku, $start_date, $end_date, $multiplier, $quantity, $note, $created_at, $created_by)
