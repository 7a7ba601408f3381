-- Quarter-hour rollups (width 900 s): every time zone in use is a whole number of quarter hours
-- from UTC, so that a series by local days reads no raw rows but at the window's two edges.
-- Summarised here from the raw rows still stored; reads before the retention horizon widen
-- quarters to whole hours (domain/rollups.py), so quarters of rows pruned earlier are never
-- needed. (ts % w + w) % w floors before 1970 too.
INSERT INTO rollups
SELECT room, 900, start, count(*), sum(kelvin), min(kelvin), max(kelvin), min(ts), max(ts), 0
FROM (
    SELECT room, ts, kelvin, ts - ((ts % 900000000) + 900000000) % 900000000 AS start
    FROM measurements
)
GROUP BY room, start;

UPDATE rollups SET last_kelvin = (
    SELECT kelvin FROM measurements
    WHERE measurements.room = rollups.room AND measurements.ts = rollups.last_ts
)
WHERE width = 900;
