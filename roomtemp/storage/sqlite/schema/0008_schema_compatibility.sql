-- The oldest code this schema serves (see the PostgreSQL migration of the same number). A
-- SQLite file is one host's, upgraded by a restart rather than instance by instance: the row
-- is kept so that both backends have the same versions and the same meaning.
CREATE TABLE schema_compatibility (oldest_code integer NOT NULL);
INSERT INTO schema_compatibility VALUES (8);
