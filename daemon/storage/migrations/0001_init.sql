-- Jobs, their tasks (chunks of frames), the agents that run them, and task logs.
-- Times are UTC seconds since the epoch (REAL).

CREATE TABLE jobs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT    NOT NULL,
    owner         TEXT    NOT NULL,
    project       TEXT    NOT NULL,
    dcc           TEXT    NOT NULL,
    spec          TEXT    NOT NULL,          -- the submitted JobSpec, as JSON
    priority      INTEGER NOT NULL,
    state         TEXT    NOT NULL,
    frame_count   INTEGER NOT NULL,
    submitted_at  REAL    NOT NULL,
    started_at    REAL,
    finished_at   REAL,
    message       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX jobs_by_state ON jobs (state, priority DESC, submitted_at);
CREATE INDEX jobs_by_project ON jobs (project, submitted_at);
CREATE INDEX jobs_by_owner ON jobs (owner, submitted_at);

CREATE TABLE agents (
    id             TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    hostname       TEXT NOT NULL,
    dccs           TEXT NOT NULL,            -- JSON list
    pool           TEXT NOT NULL,
    cores          INTEGER NOT NULL,
    memory_mb      INTEGER NOT NULL,
    state          TEXT NOT NULL,            -- online | offline
    registered_at  REAL NOT NULL,
    last_seen      REAL NOT NULL
);

CREATE TABLE tasks (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id            INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    idx               INTEGER NOT NULL,
    frames            TEXT    NOT NULL,      -- JSON list of frame numbers
    frame_count       INTEGER NOT NULL,
    state             TEXT    NOT NULL,
    attempts          INTEGER NOT NULL DEFAULT 0,   -- leases handed out
    failures          INTEGER NOT NULL DEFAULT 0,   -- failures counted against the retry budget
    agent_id          TEXT REFERENCES agents (id),
    lease_expires_at  REAL,
    started_at        REAL,
    finished_at       REAL,
    duration_s        REAL,                  -- of the run that finished it
    progress          REAL    NOT NULL DEFAULT 0,
    outputs           TEXT    NOT NULL DEFAULT '[]',
    error             TEXT    NOT NULL DEFAULT '',
    UNIQUE (job_id, idx)
);
CREATE INDEX tasks_by_job_state ON tasks (job_id, state, idx);
CREATE INDEX tasks_by_lease ON tasks (state, lease_expires_at);
CREATE INDEX tasks_by_agent ON tasks (agent_id, state);

CREATE TABLE task_logs (
    task_id  INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt  INTEGER NOT NULL,
    offset   INTEGER NOT NULL,
    text     TEXT    NOT NULL,
    PRIMARY KEY (task_id, attempt, offset)
);
