-- Whether $schema.$table exists (a table, not a view).
SELECT count(*) > 0 AS found
FROM duckdb_tables()
WHERE schema_name = $schema AND table_name = $table
