-- Artists' desktops in the cloud: their sessions, the broker's one-time connection tokens, boot
-- volume snapshots and their schedules, what sessions cost, who belongs to a project, and the
-- append-only record of every session and snapshot action.

CREATE TABLE desktop_sessions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id           INTEGER NOT NULL REFERENCES users (id),
    user_name         TEXT    NOT NULL,
    project           TEXT    NOT NULL DEFAULT '',
    profile           TEXT    NOT NULL,
    backend           TEXT    NOT NULL,
    state             TEXT    NOT NULL,     -- provisioning | ready | idle | ending | ended | failed
    detail            TEXT    NOT NULL DEFAULT '',
    instance_id       TEXT,
    host              TEXT,
    port              INTEGER,
    secret_hash       TEXT    NOT NULL,     -- the desktop's own token (sha256), never the token
    price_per_hour    REAL    NOT NULL DEFAULT 0,
    created_at        REAL    NOT NULL,
    created_by        TEXT    NOT NULL,
    started_at        REAL,                 -- its desktop's first report
    ends_at           REAL    NOT NULL,
    warned_at         REAL,                 -- the desktop was told the end is near
    end_requested_at  REAL,                 -- told to end: terminated after the grace
    end_reason        TEXT,
    last_report_at    REAL,
    connected         INTEGER NOT NULL DEFAULT 0,
    idle_s            REAL,
    snapshot_id       INTEGER,              -- the snapshot it started from
    end_snapshot_id   INTEGER,              -- the snapshot taken as it ended
    ended_at          REAL,
    cost              REAL    NOT NULL DEFAULT 0
);
CREATE INDEX desktop_sessions_user ON desktop_sessions (user_id, id);
CREATE INDEX desktop_sessions_live ON desktop_sessions (state)
    WHERE state IN ('provisioning', 'ready', 'idle', 'ending');
CREATE UNIQUE INDEX desktop_sessions_instance ON desktop_sessions (instance_id)
    WHERE instance_id IS NOT NULL;
CREATE UNIQUE INDEX desktop_sessions_secret ON desktop_sessions (secret_hash);

-- One-time connection tokens (sha256 of the token): refused once used or expired.
CREATE TABLE connection_tokens (
    token_hash   TEXT    PRIMARY KEY,
    session_id   INTEGER NOT NULL REFERENCES desktop_sessions (id) ON DELETE CASCADE,
    user_name    TEXT    NOT NULL,
    created_at   REAL    NOT NULL,
    expires_at   REAL    NOT NULL,
    used_at      REAL
);
CREATE INDEX connection_tokens_session ON connection_tokens (session_id);
CREATE INDEX connection_tokens_expiry ON connection_tokens (expires_at);

CREATE TABLE desktop_snapshots (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id    INTEGER REFERENCES desktop_sessions (id),
    instance_id   TEXT    NOT NULL,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    user_name     TEXT    NOT NULL,
    project       TEXT    NOT NULL DEFAULT '',
    profile       TEXT    NOT NULL,
    description   TEXT    NOT NULL DEFAULT '',
    kind          TEXT    NOT NULL,         -- full | incremental
    scheduled     INTEGER NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL,         -- creating | available | archiving | archived | deleted | failed
    backup_id     TEXT    NOT NULL,
    size_gb       REAL,
    archive_uri   TEXT,
    detail        TEXT    NOT NULL DEFAULT '',
    created_at    REAL    NOT NULL,
    created_by    TEXT    NOT NULL,
    deleted_at    REAL
);
CREATE INDEX desktop_snapshots_user ON desktop_snapshots (user_id, id);
CREATE INDEX desktop_snapshots_session ON desktop_snapshots (session_id, created_at);
CREATE INDEX desktop_snapshots_state ON desktop_snapshots (state);

-- Sessions whose boot volume is snapshotted every day by their profile's policy.
CREATE TABLE snapshot_schedules (
    session_id   INTEGER PRIMARY KEY REFERENCES desktop_sessions (id) ON DELETE CASCADE,
    created_at   REAL    NOT NULL,
    created_by   TEXT    NOT NULL
);

-- What each ended session cost, booked per user and show (like cloud render time).
CREATE TABLE desktop_usage (
    session_id   INTEGER PRIMARY KEY REFERENCES desktop_sessions (id),
    user_name    TEXT    NOT NULL,
    project      TEXT    NOT NULL,
    seconds      REAL    NOT NULL,
    cost         REAL    NOT NULL,
    booked_at    REAL    NOT NULL
);
CREATE INDEX desktop_usage_project ON desktop_usage (project);
CREATE INDEX desktop_usage_user ON desktop_usage (user_name);

-- Who belongs to a project: a confidential project's desktop profiles are offered to them only.
CREATE TABLE project_members (
    project      TEXT    NOT NULL,
    user_name    TEXT    NOT NULL,
    added_by     TEXT    NOT NULL,
    added_at     REAL    NOT NULL,
    PRIMARY KEY (project, user_name)
);

-- Append-only: every session and snapshot action, who did it and to what.
CREATE TABLE desktop_audit (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           REAL    NOT NULL,
    actor        TEXT    NOT NULL,          -- a user's name, or "daemon" for its own passes
    action       TEXT    NOT NULL,          -- session.start, session.connect, snapshot.create...
    session_id   INTEGER,
    snapshot_id  INTEGER,
    user_name    TEXT    NOT NULL DEFAULT '',  -- whose session or snapshot
    detail       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX desktop_audit_session ON desktop_audit (session_id, id);
CREATE INDEX desktop_audit_user ON desktop_audit (user_name, id);
CREATE TRIGGER desktop_audit_no_update BEFORE UPDATE ON desktop_audit
BEGIN
    SELECT RAISE(ABORT, 'the desktop audit log is append-only');
END;
CREATE TRIGGER desktop_audit_no_delete BEFORE DELETE ON desktop_audit
BEGIN
    SELECT RAISE(ABORT, 'the desktop audit log is append-only');
END;
