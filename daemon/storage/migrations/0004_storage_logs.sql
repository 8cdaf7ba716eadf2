-- Stored files and their uploads, the agents' last reported load, the daemon's own log.
-- Times are UTC seconds since the epoch (REAL).

CREATE TABLE uploads (
    id          TEXT    PRIMARY KEY,
    path        TEXT    NOT NULL,               -- relative to the storage root
    size        INTEGER NOT NULL,
    received    INTEGER NOT NULL DEFAULT 0,     -- bytes in the part file, from offset 0
    algorithm   TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    created_at  REAL    NOT NULL,
    updated_at  REAL    NOT NULL
);
CREATE INDEX uploads_by_update ON uploads (updated_at);

CREATE TABLE stored_files (
    id          TEXT    PRIMARY KEY,
    path        TEXT    NOT NULL,
    size        INTEGER NOT NULL,
    algorithm   TEXT    NOT NULL,
    checksum    TEXT    NOT NULL,
    owner       TEXT    NOT NULL,
    created_at  REAL    NOT NULL,
    deleted_at  REAL                            -- soft-deleted: the file waits in the trash
);
-- One live file per path; deleted ones keep their path for a restore.
CREATE UNIQUE INDEX stored_files_live_path ON stored_files (path) WHERE deleted_at IS NULL;
CREATE INDEX stored_files_by_deletion ON stored_files (deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE agent_load (
    agent_id        TEXT PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    cpu_percent     REAL,
    memory_percent  REAL,
    gpu_percent     REAL,
    disk_free_mb    INTEGER,
    reported_at     REAL NOT NULL
);

CREATE TABLE daemon_logs (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    time      REAL    NOT NULL,
    level     INTEGER NOT NULL,                 -- logging's number: 10 DEBUG .. 50 CRITICAL
    service   TEXT    NOT NULL,                 -- the logger's name
    message   TEXT    NOT NULL,
    job_id    INTEGER,
    task_id   INTEGER,
    agent_id  TEXT
);
CREATE INDEX daemon_logs_by_time ON daemon_logs (time);
CREATE INDEX daemon_logs_by_job ON daemon_logs (job_id, time) WHERE job_id IS NOT NULL;
CREATE INDEX tasks_by_finish ON tasks (state, finished_at);
