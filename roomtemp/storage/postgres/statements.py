"""The statements of PostgresStore, kept apart from the code that sends them."""

from roomtemp.domain.measurements import SAME_VALUE_TOLERANCE

RESOLVE_ROOMS = """
WITH names AS (SELECT unnest($1::text[]) AS name),
inserted AS (
    INSERT INTO rooms (name) SELECT name FROM names ORDER BY name
    ON CONFLICT DO NOTHING RETURNING id, name
)
SELECT id, name FROM inserted
UNION ALL
SELECT rooms.id, rooms.name FROM rooms JOIN names USING (name)
"""

# A rollup bucket gains what is added to it. Rows are merged in (room, width, start) order, so
# that concurrent writers lock them in one order and cannot deadlock.
_MERGE = """
ON CONFLICT (room, width, start) DO UPDATE SET
    count = rollups.count + EXCLUDED.count,
    total = rollups.total + EXCLUDED.total,
    minimum = least(rollups.minimum, EXCLUDED.minimum),
    maximum = greatest(rollups.maximum, EXCLUDED.maximum),
    first_ts = least(rollups.first_ts, EXCLUDED.first_ts),
    last_ts = greatest(rollups.last_ts, EXCLUDED.last_ts),
    last_kelvin = CASE WHEN EXCLUDED.last_ts > rollups.last_ts
                       THEN EXCLUDED.last_kelvin ELSE rollups.last_kelvin END
"""

# Insert what is new (in (room, ts) order, for the same reason; a key given twice goes in as
# given first) and merge exactly what was inserted into its hour, day and total buckets, in one
# statement: duplicates, which are not inserted, count nowhere.
_WRITE = (
    """
WITH inserted AS (
    INSERT INTO measurements (room, ts, kelvin)
    SELECT room, ts, kelvin FROM {source} ORDER BY room, ts, index
    ON CONFLICT DO NOTHING RETURNING room, ts, kelvin
), merged AS (
    INSERT INTO rollups
    SELECT room, width, start, count(*), sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts),
           (array_agg(kelvin ORDER BY ts DESC))[1]
    FROM inserted, LATERAL (VALUES (900, date_bin('15 minutes', ts, 'epoch')),
                                   (3600, date_bin('1 hour', ts, 'epoch')),
                                   (86400, date_bin('1 day', ts, 'epoch')),
                                   (0, 'epoch'::timestamptz)) AS bucket (width, start)
    GROUP BY room, width, start
    ORDER BY room, width, start
"""
    + _MERGE
    + """
)
SELECT count(*) FROM inserted
"""
)
_ARRAYS = """unnest($1::integer[], $2::timestamptz[], $3::float8[])
    WITH ORDINALITY AS batch (room, ts, kelvin, index)"""
INSERT_ARRAYS = _WRITE.format(source=_ARRAYS)
INSERT_STAGED = _WRITE.format(source="staging")

# What a batch copied straight into measurements adds to the rollups, summed up in Python and
# copied into DELTAS. (As ten array parameters, asyncpg took ~1 ms of CPU to encode the ~4,000
# values of a batch of 5,000, 0.2 us an item; the binary COPY 0.1 ms, and less of PostgreSQL's.)
MERGE_DELTAS = "INSERT INTO rollups SELECT * FROM deltas ORDER BY room, width, start" + _MERGE

# A temporary table lives as long as its connection; the pool keeps connections (and does not
# reset their sessions), so each connection creates it once and reuses it.
STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS staging
    (index integer, room integer, ts timestamptz, kelvin double precision) ON COMMIT DELETE ROWS
"""
DELTAS = """
CREATE TEMPORARY TABLE IF NOT EXISTS deltas (
    room integer, width integer, start timestamptz, count bigint, total double precision,
    minimum double precision, maximum double precision, first_ts timestamptz,
    last_ts timestamptz, last_kelvin double precision
) ON COMMIT DELETE ROWS
"""

# Run after the insert, so that rows another writer committed meanwhile are seen too.
CONFLICTS_ARRAYS = f"""
SELECT batch.index - 1 FROM unnest($1::integer[], $2::timestamptz[], $3::float8[])
    WITH ORDINALITY AS batch (room, ts, kelvin, index)
JOIN measurements USING (room, ts)
WHERE abs(measurements.kelvin - batch.kelvin) > {SAME_VALUE_TOLERANCE}
"""
CONFLICTS_STAGED = f"""
SELECT staging.index FROM staging JOIN measurements USING (room, ts)
WHERE abs(measurements.kelvin - staging.kelvin) > {SAME_VALUE_TOLERANCE}
"""

ROOM = "(SELECT id FROM rooms WHERE name = $1)"
# Each piece of a window (see domain/rollups.py) summarised by one index range scan of its own,
# whatever the number of pieces (a series by days has hundreds): LATERAL makes the plan a loop
# over the pieces, never a join of the pieces against a room's whole history (issue 10, item 3).
# Raw pieces have no width. One row per piece, in no promised order: each says which it is.
SUMMARISE = f"""
WITH pieces AS (
    SELECT * FROM unnest($2::integer[], $3::timestamptz[], $4::timestamptz[])
        WITH ORDINALITY AS piece (width, start, stop, index)
)
SELECT pieces.index, raw.* FROM pieces, LATERAL (
    SELECT count(*), sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts) FROM measurements
    WHERE room = {ROOM} AND ts >= pieces.start AND ts < pieces.stop
) AS raw
WHERE pieces.width IS NULL
UNION ALL
SELECT pieces.index, buckets.* FROM pieces, LATERAL (
    SELECT sum(count)::bigint, sum(total), min(minimum), max(maximum), min(first_ts),
           max(last_ts)
    FROM rollups
    WHERE room = {ROOM} AND width = pieces.width AND start >= pieces.start AND start < pieces.stop
) AS buckets
WHERE pieces.width IS NOT NULL
"""
BUCKETS = (
    "SELECT {piece}, sum(count)::bigint, sum(total), min(minimum), max(maximum), min(first_ts),"
    f" max(last_ts) FROM rollups WHERE room = {ROOM} AND width = ${{width}}"
    " AND start >= ${start} AND start < ${end}"
)
BUCKETS = (
    "SELECT start, count, total, minimum, maximum, first_ts, last_ts FROM rollups"
    f" WHERE room = {ROOM} AND width = $2 AND start >= $3 AND start < $4 ORDER BY start"
)
RAW = (
    f"SELECT ts, kelvin FROM measurements WHERE room = {ROOM} AND ts >= $2 AND ts < $3"
    " ORDER BY ts LIMIT $4"
)
# Code point order (COLLATE "C", the order of UTF-8 bytes), as SQLite and Python sort, along
# the index of migration 0005: a page of a hundred thousand rooms reads only its own rows,
# the first page after '' (no room id is empty; "$1 IS NULL OR ..." would keep a generic plan
# from starting the index scan at the cursor).
ROOMS = """
SELECT name, count, total, minimum, maximum, first_ts, last_ts, last_kelvin
FROM rooms JOIN rollups ON rollups.room = rooms.id AND width = 0 AND start = 'epoch'
WHERE name COLLATE "C" > $1
ORDER BY name COLLATE "C" LIMIT $2
"""
# SUMMARISE for several rooms, each room's pieces merged.
SUMMARISE_ROOMS = """
WITH pieces AS (
    SELECT * FROM unnest($2::integer[], $3::timestamptz[], $4::timestamptz[])
        AS piece (width, start, stop)
), asked AS (
    SELECT id, name FROM rooms WHERE name = ANY($1::text[])
), parts AS (
    SELECT asked.name, raw.* FROM asked, pieces, LATERAL (
        SELECT count(*) AS count, sum(kelvin) AS total, min(kelvin) AS minimum,
               max(kelvin) AS maximum, min(ts) AS first_ts, max(ts) AS last_ts
        FROM measurements
        WHERE room = asked.id AND ts >= pieces.start AND ts < pieces.stop
    ) AS raw
    WHERE pieces.width IS NULL
    UNION ALL
    SELECT asked.name, buckets.* FROM asked, pieces, LATERAL (
        SELECT sum(count)::bigint, sum(total), min(minimum), max(maximum), min(first_ts),
               max(last_ts)
        FROM rollups
        WHERE room = asked.id AND width = pieces.width
          AND start >= pieces.start AND start < pieces.stop
    ) AS buckets
    WHERE pieces.width IS NOT NULL
)
SELECT name, sum(count)::bigint, sum(total), min(minimum), max(maximum), min(first_ts),
       max(last_ts)
FROM parts GROUP BY name HAVING sum(count) > 0
"""
# Up to 10,000 rows a statement, each its own short transaction.
DELETE_RAW = """
DELETE FROM measurements WHERE room = $1 AND ts < $2 AND ts <= coalesce(
    (SELECT ts FROM measurements WHERE room = $1 AND ts < $2 ORDER BY ts OFFSET 9999 LIMIT 1), $2)
"""

INSERT_TOKEN = "INSERT INTO tokens VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO NOTHING"
TOKENS = "SELECT token_id, name, scopes, digest, created FROM tokens ORDER BY created, name"
REVOKE_TOKEN = "DELETE FROM tokens WHERE name = $1"
