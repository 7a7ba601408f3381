-- A room's name is stored once; measurements refer to it by a small integer.
CREATE TABLE rooms (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

-- WITHOUT ROWID clusters the rows by (room, ts): one room's measurements in time order are
-- one contiguous range of the primary key, and the key doubles as the idempotency check.
-- ts is microseconds since the Unix epoch, UTC.
CREATE TABLE measurements (
    room INTEGER NOT NULL REFERENCES rooms (id),
    ts INTEGER NOT NULL,
    kelvin REAL NOT NULL,
    PRIMARY KEY (room, ts)
) WITHOUT ROWID;
