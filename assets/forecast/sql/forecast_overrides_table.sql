CREATE TABLE IF NOT EXISTS ops.forecast_overrides (
  sku VARCHAR NOT NULL,
  start_date DATE NOT NULL,
  end_date DATE NOT NULL,     -- inclusive
  multiplier DOUBLE,          -- × the statistical forecast ...
  quantity DOUBLE,            -- ... or units/day the planner expects (exactly one of the two)
  note VARCHAR,
  created_at TIMESTAMP NOT NULL,  -- UTC; a later row wins where rows overlap
  created_by VARCHAR,
  CHECK ((multiplier IS NULL) <> (quantity IS NULL)),
  CHECK (coalesce(multiplier, quantity) >= 0),
  CHECK (start_date <= end_date)
)
