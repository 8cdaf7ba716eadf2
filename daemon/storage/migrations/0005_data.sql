-- Just-in-time data: jobs' files staged to the object store, the audit log of every file that
-- left the building, and frames rendered away from studio storage on their way home.

ALTER TABLE agents ADD COLUMN studio_access INTEGER NOT NULL DEFAULT 1;

CREATE TABLE job_data (
    job_id       INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    state        TEXT    NOT NULL,          -- pending | staging | staged | failed
    manifest     TEXT,                      -- the job's Manifest (JSON), once built
    files        INTEGER NOT NULL DEFAULT 0,
    bytes_total  INTEGER NOT NULL DEFAULT 0,
    blobs_sent   INTEGER NOT NULL DEFAULT 0,
    bytes_sent   INTEGER NOT NULL DEFAULT 0,
    destination  TEXT    NOT NULL DEFAULT '',
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        TEXT    NOT NULL DEFAULT '',
    updated_at   REAL    NOT NULL,
    staged_at    REAL
);
CREATE INDEX job_data_by_state ON job_data (state, job_id);

-- Append-only: rows are never changed nor deleted (not even with their job).
CREATE TABLE audit_log (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           REAL    NOT NULL,
    job_id       INTEGER,
    user         TEXT    NOT NULL,
    path         TEXT    NOT NULL,
    hash         TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    destination  TEXT    NOT NULL,
    transferred  INTEGER NOT NULL           -- bytes sent for it now; 0: already in the store
);
CREATE INDEX audit_by_job ON audit_log (job_id, id);
CREATE INDEX audit_by_user ON audit_log (user, id);
CREATE INDEX audit_by_time ON audit_log (at);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Frames a node away from studio storage uploaded; the daemon brings each home and verifies it.
CREATE TABLE task_outputs (
    task_id   INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    job_id    INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    path      TEXT    NOT NULL,             -- where the frame belongs on studio storage
    hash      TEXT    NOT NULL,
    size      INTEGER NOT NULL,
    state     TEXT    NOT NULL,             -- away | home | failed
    attempts  INTEGER NOT NULL DEFAULT 0,
    error     TEXT    NOT NULL DEFAULT '',
    home_at   REAL,
    PRIMARY KEY (task_id, path)
);
CREATE INDEX task_outputs_by_state ON task_outputs (state, job_id);
CREATE INDEX task_outputs_by_job ON task_outputs (job_id, state);
