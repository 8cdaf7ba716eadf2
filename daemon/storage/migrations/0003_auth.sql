-- Who may do what: users, their sessions and refresh tokens, long-lived API keys (the local
-- admin's), one-time agent enrollment tokens, agent tokens, and confidential projects.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,
    role           TEXT    NOT NULL,
    password_hash  TEXT,                              -- NULL: cannot sign in with a password
    active         INTEGER NOT NULL DEFAULT 1,        -- 0: awaiting approval or disabled
    created_at     REAL    NOT NULL,
    updated_at     REAL    NOT NULL,
    deleted_at     REAL                               -- soft delete; NULL: not deleted
);

-- A sign-in: every refresh token of one login belongs to it; logout revokes it (and with it
-- every access token that names it).
CREATE TABLE sessions (
    id          TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    created_at  REAL    NOT NULL,
    revoked_at  REAL
);

CREATE TABLE refresh_tokens (
    token_hash  TEXT    PRIMARY KEY,                  -- sha256 of the token
    session_id  TEXT    NOT NULL REFERENCES sessions (id),
    expires_at  REAL    NOT NULL,
    used_at     REAL                                  -- rotated: a second use revokes the session
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

CREATE TABLE api_keys (
    token_hash  TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    label       TEXT    NOT NULL DEFAULT '',
    created_at  REAL    NOT NULL,
    revoked_at  REAL
);

CREATE TABLE enrollment_tokens (
    token_hash  TEXT    PRIMARY KEY,
    created_by  TEXT    NOT NULL,
    created_at  REAL    NOT NULL,
    expires_at  REAL    NOT NULL,
    used_at     REAL,
    agent_id    TEXT
);

ALTER TABLE agents ADD COLUMN token_hash TEXT;
CREATE UNIQUE INDEX agents_by_token ON agents (token_hash);

CREATE TABLE projects (
    name          TEXT    PRIMARY KEY,
    confidential  INTEGER NOT NULL DEFAULT 0,
    updated_by    TEXT    NOT NULL DEFAULT '',
    updated_at    REAL
);
