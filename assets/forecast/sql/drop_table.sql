-- {table}: a fixed name from assets/forecast whose asset has nothing to write this run
DROP TABLE IF EXISTS {table}
