SELECT count(*) > 0 AS table_exists
FROM duckdb_tables()
WHERE schema_name = 'ops' AND table_name = 'forecast_overrides'
