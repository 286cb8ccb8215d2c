-- {table}: a fixed name from assets/forecast; _forecast_frame: the frame registered for it
CREATE OR REPLACE TABLE {table} AS SELECT * FROM _forecast_frame
