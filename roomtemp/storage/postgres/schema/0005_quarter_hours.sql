-- Quarter-hour rollups (width 900 s): every time zone in use is a whole number of quarter hours
-- from UTC, so that a series by local days reads no raw rows but at the window's two edges.
-- Summarised here from the raw rows still stored; reads before the retention horizon widen
-- quarters to whole hours (domain/rollups.py), so quarters of rows pruned earlier are never
-- needed.
INSERT INTO rollups
SELECT room, 900, date_bin('15 minutes', ts, 'epoch'), count(*), sum(kelvin), min(kelvin),
       max(kelvin), min(ts), max(ts), (array_agg(kelvin ORDER BY ts DESC))[1]
FROM measurements
GROUP BY 1, 2, 3;

-- The rollup rows of the current quarter, hour, day and a room's total are updated by every
-- write. With full pages each update puts the new version on another page and a new entry in
-- the primary key, and reads then wade through dead versions until a vacuum (issue 10, item
-- 15). Half-empty pages let PostgreSQL update in place (HOT: none of the updated columns is
-- indexed) and prune dead versions as it goes; CLUSTER rewrites the table with that room, and
-- in primary-key order, so that a room's days lie together.
ALTER TABLE rollups SET (fillfactor = 50);
CLUSTER rollups USING rollups_pkey;
-- The backfill above is a bulk load: statistics now, not when autovacuum comes round.
ANALYZE rollups;

-- GET /rooms lists rooms a page at a time in code point order (as SQLite and Python sort);
-- the unique index on name follows the database's collation, which may sort otherwise.
CREATE INDEX rooms_by_code_point ON rooms (name COLLATE "C");
