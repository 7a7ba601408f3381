-- Each room's measurements summarised per hour (width 3600 s), per day (86400 s) and in total
-- (width 0, start 0), kept with every write: a window of any length reads raw rows only at its
-- ragged edges. start, first_ts and last_ts are microseconds since the epoch, like ts;
-- last_kelvin is the value at last_ts.
CREATE TABLE rollups (
    room INTEGER NOT NULL REFERENCES rooms (id),
    width INTEGER NOT NULL,
    start INTEGER NOT NULL,
    count INTEGER NOT NULL,
    total REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    last_kelvin REAL NOT NULL,
    PRIMARY KEY (room, width, start)
) WITHOUT ROWID;

-- Summarise what was stored before this migration. (ts % w + w) % w floors before 1970 too.
INSERT INTO rollups
SELECT room, width, start, count(*), sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts), 0
FROM (
    SELECT room, ts, kelvin, width,
           CASE width WHEN 0 THEN 0
           ELSE ts - ((ts % (width * 1000000)) + width * 1000000) % (width * 1000000) END AS start
    FROM measurements, (SELECT 3600 AS width UNION ALL SELECT 86400 UNION ALL SELECT 0)
)
GROUP BY room, width, start;

UPDATE rollups SET last_kelvin = (
    SELECT kelvin FROM measurements
    WHERE measurements.room = rollups.room AND measurements.ts = rollups.last_ts
);
