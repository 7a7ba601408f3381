-- A room's name is stored once; measurements refer to it by a small integer.
CREATE TABLE rooms (
    id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL UNIQUE
);

-- The primary key (room, ts) makes one room's measurements in time order one index range
-- scan, and doubles as the idempotency check of repeated writes.
CREATE TABLE measurements (
    room integer NOT NULL REFERENCES rooms (id),
    ts timestamptz NOT NULL,
    kelvin double precision NOT NULL,
    PRIMARY KEY (room, ts)
);
