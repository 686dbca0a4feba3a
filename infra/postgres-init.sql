-- The Prefect server's own database, next to tunefleet's records (POSTGRES_DB).
CREATE DATABASE prefect OWNER tunefleet;
