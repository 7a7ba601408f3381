-- Access tokens: only the SHA-256 digest of each is kept, never the token. token_id is the
-- public part of the token, by which a presented token finds its row; scopes are
-- space-separated (read, write, admin); created is microseconds since the epoch, like ts.
-- Revoking a token deletes its row.
CREATE TABLE tokens (
    token_id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    digest BLOB NOT NULL,
    created INTEGER NOT NULL
);
