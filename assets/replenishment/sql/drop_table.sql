-- Drop a table whose inputs are missing, so nobody reads yesterday's rows as today's.
DROP TABLE IF EXISTS {table}
