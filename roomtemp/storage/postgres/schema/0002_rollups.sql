-- Each room's measurements summarised per hour (width 3600 s), per day (86400 s) and in total
-- (width 0, start at the epoch), kept with every write: a window of any length reads raw rows
-- only at its ragged edges. last_kelvin is the value at last_ts.
CREATE TABLE rollups (
    room integer NOT NULL REFERENCES rooms (id),
    width integer NOT NULL,
    start timestamptz NOT NULL,
    count bigint NOT NULL,
    total double precision NOT NULL,
    minimum double precision NOT NULL,
    maximum double precision NOT NULL,
    first_ts timestamptz NOT NULL,
    last_ts timestamptz NOT NULL,
    last_kelvin double precision NOT NULL,
    PRIMARY KEY (room, width, start)
);

-- Summarise what was stored before this migration.
INSERT INTO rollups
SELECT room, width, start, count(*), sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts),
       (array_agg(kelvin ORDER BY ts DESC))[1]
FROM measurements,
     LATERAL (VALUES (3600, date_bin('1 hour', ts, 'epoch')),
                     (86400, date_bin('1 day', ts, 'epoch')),
                     (0, 'epoch'::timestamptz)) AS bucket (width, start)
GROUP BY room, width, start;
