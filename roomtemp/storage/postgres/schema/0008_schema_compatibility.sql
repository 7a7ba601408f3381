-- Rolling upgrades (docs/scaling.md): the previous release's instances keep serving on this
-- schema while the next release migrates it. oldest_code is the oldest code the schema still
-- serves, named by the latest migration that code ships. A migration that expands (adds what
-- old code ignores) leaves it; one that contracts (drops or renames what old code uses, or
-- adds what every writer must keep in step, as rollups are) raises it, and code older than
-- it refuses to start. 8: the code that first reads this row; older code does not check.
CREATE TABLE schema_compatibility (oldest_code integer NOT NULL);
INSERT INTO schema_compatibility VALUES (8);
