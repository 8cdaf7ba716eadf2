-- Bursting to the cloud: each job's route, the cloud nodes the daemon holds, the shows' cloud
-- budgets, and the ledger of cloud render seconds.

CREATE TABLE job_routes (
    job_id       INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    verdict      TEXT    NOT NULL,          -- daemon.scheduling.routing.Verdict
    cloud_quota  INTEGER NOT NULL DEFAULT 0,-- frames the cloud may hold (running + to start)
    cloud_chunk  INTEGER NOT NULL DEFAULT 1,-- frames per cloud task
    estimated_cost REAL  NOT NULL DEFAULT 0,
    payers       TEXT    NOT NULL DEFAULT '{}',-- JSON {show: frames} paid by other shows
    reason       TEXT    NOT NULL DEFAULT '',
    decided_at   REAL    NOT NULL
);
CREATE INDEX job_routes_by_verdict ON job_routes (verdict, job_id);

CREATE TABLE cloud_nodes (
    id              TEXT PRIMARY KEY,       -- the backend's id
    backend         TEXT NOT NULL,
    name            TEXT NOT NULL,          -- the name its agent registers with
    state           TEXT NOT NULL,          -- provisioning | running | terminating | terminated
    preemptible     INTEGER NOT NULL,
    shape           TEXT NOT NULL,
    price_per_hour  REAL NOT NULL,
    launched_at     REAL NOT NULL,
    ended_at        REAL,
    cost            REAL NOT NULL DEFAULT 0,
    detail          TEXT NOT NULL DEFAULT '',
    draining        INTEGER NOT NULL DEFAULT 0,
    idle_since      REAL
);
CREATE INDEX cloud_nodes_by_name ON cloud_nodes (name);
CREATE INDEX cloud_nodes_by_state ON cloud_nodes (state);

CREATE TABLE show_budgets (
    project  TEXT PRIMARY KEY,
    budget   REAL NOT NULL,
    set_by   TEXT NOT NULL,
    set_at   REAL NOT NULL
);

CREATE TABLE cloud_usage (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    at           REAL    NOT NULL,
    project      TEXT    NOT NULL,
    job_id       INTEGER,
    task_id      INTEGER,
    node         TEXT    NOT NULL,          -- the agent's (node's) name
    shape        TEXT    NOT NULL,
    preemptible  INTEGER NOT NULL,
    seconds      REAL    NOT NULL,
    preempted    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cloud_usage_by_project ON cloud_usage (project, at);
CREATE INDEX cloud_usage_by_job ON cloud_usage (job_id);

-- One row: the autoscaler's memory between passes.
CREATE TABLE cloud_state (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    in_fallback  INTEGER NOT NULL DEFAULT 0,
    min_nodes    INTEGER,                   -- set by hand (POST /resources/scale)
    last_pass    REAL,
    reasons      TEXT NOT NULL DEFAULT '[]'
);
INSERT INTO cloud_state (id) VALUES (1);
