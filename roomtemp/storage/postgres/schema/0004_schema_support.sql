-- older code may use this schema
-- Which roomtemp code may use this schema: code whose newest migration is oldest_code or
-- later. Code older than that refuses to start, and a running process fails /readyz, rather
-- than write without what a newer migration added (a rolling upgrade keeps old processes
-- running for a while). The runner raises oldest_code to the version of every migration it
-- applies, unless the migration's first line is the one above: older code may use what this
-- one adds (a table it never reads).
CREATE TABLE schema_support (
    only_row integer PRIMARY KEY CHECK (only_row = 1),
    oldest_code integer NOT NULL
);
INSERT INTO schema_support VALUES (1, 3);
