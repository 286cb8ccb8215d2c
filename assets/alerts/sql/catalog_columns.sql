-- Every column of every table and view of the open database, as schema.table and column:
-- what tells which alert rules can run.
SELECT table_schema || '.' || table_name AS table_name, column_name
FROM information_schema.columns
WHERE table_catalog = current_database()
