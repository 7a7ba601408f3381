-- Access tokens: only the SHA-256 digest of each is kept, never the token. token_id is the
-- public part of the token, by which a presented token finds its row; scopes are
-- space-separated (read, write, admin). Revoking a token deletes its row.
CREATE TABLE tokens (
    token_id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    scopes text NOT NULL,
    digest bytea NOT NULL,
    created timestamptz NOT NULL
);
