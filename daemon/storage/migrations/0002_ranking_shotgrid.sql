-- Ranking (stored by the periodic pass, read by the lease path), ShotGrid links and the values
-- last read from ShotGrid, the write-back outbox, and production's overrides.

-- What a ranking pass reads from a job without parsing its spec or scanning its tasks.
ALTER TABLE jobs ADD COLUMN chunk_size INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN due_at REAL;
ALTER TABLE jobs ADD COLUMN frames_done INTEGER NOT NULL DEFAULT 0;   -- frames of done tasks
ALTER TABLE jobs ADD COLUMN render_s REAL NOT NULL DEFAULT 0;         -- their render seconds

UPDATE jobs SET
    chunk_size = coalesce(json_extract(spec, '$.chunk_size'), 1),
    due_at = CAST(strftime('%s', json_extract(spec, '$.due')) AS REAL),
    frames_done = (SELECT coalesce(sum(t.frame_count), 0) FROM tasks t
                   WHERE t.job_id = jobs.id AND t.state = 'done'),
    render_s = (SELECT coalesce(sum(t.duration_s), 0) FROM tasks t
                WHERE t.job_id = jobs.id AND t.state = 'done');

-- Lets a pass read what it needs of every unfinished job from the index alone (not the specs).
CREATE INDEX jobs_for_ranking ON jobs (
    state, id, project, submitted_at, priority, frame_count, frames_done, render_s, chunk_size,
    due_at
);

-- The ShotGrid entities a job renders for (ids resolved at submission).
CREATE TABLE job_links (
    job_id       INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    project_id   INTEGER,
    entity_type  TEXT,                     -- the task's entity: Shot, Asset, ...
    entity_id    INTEGER,
    task_id      INTEGER
);
CREATE INDEX job_links_by_task ON job_links (task_id);
CREATE INDEX job_links_by_entity ON job_links (entity_type, entity_id);

-- The last values read from ShotGrid, mapped by the configured fields.
CREATE TABLE sg_entities (
    entity_type     TEXT    NOT NULL,
    entity_id       INTEGER NOT NULL,
    name            TEXT    NOT NULL DEFAULT '',   -- code, content or project name
    priority        REAL,                          -- 0-100, when this type carries it
    priority_label  TEXT    NOT NULL DEFAULT '',
    due_at          REAL,
    status          TEXT    NOT NULL DEFAULT '',
    updated_at      REAL,                          -- ShotGrid's updated_at (its clock)
    fetched_at      REAL    NOT NULL,              -- ours
    PRIMARY KEY (entity_type, entity_id)
) WITHOUT ROWID;

-- The sync's health (one row) and, per entity type, the newest updated_at seen.
CREATE TABLE sg_sync (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    last_attempt_at  REAL,
    last_success_at  REAL,
    next_attempt_at  REAL,
    failures         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT ''
);
INSERT INTO sg_sync (id) VALUES (1);
CREATE TABLE sg_cursors (
    entity_type  TEXT PRIMARY KEY,
    updated_at   REAL NOT NULL
);

-- Write-backs to ShotGrid, sent in order per job and retried; never part of a render.
CREATE TABLE sg_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id           INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind             TEXT    NOT NULL,               -- status | version
    payload          TEXT    NOT NULL,               -- JSON
    state            TEXT    NOT NULL DEFAULT 'pending',   -- pending | done | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    created_at       REAL    NOT NULL,
    next_attempt_at  REAL    NOT NULL,
    done_at          REAL,
    last_error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX sg_outbox_due ON sg_outbox (state, next_attempt_at, id);

-- Each unfinished job's rank, written by the ranking pass (and at submission); leases read
-- the queue in sort_key order from here and never wait for a pass.
CREATE TABLE job_ranks (
    job_id          INTEGER PRIMARY KEY,
    tier            REAL    NOT NULL DEFAULT 0,   -- pinned, under its show's share, others
    sort_key        REAL    NOT NULL,             -- -score
    submitted_at    REAL    NOT NULL,
    score           REAL    NOT NULL,
    pinned          INTEGER NOT NULL DEFAULT 0,
    sg              REAL    NOT NULL DEFAULT 0,
    due             REAL    NOT NULL DEFAULT 0,
    artist          REAL    NOT NULL DEFAULT 0,
    age             REAL    NOT NULL DEFAULT 0,
    fair            REAL    NOT NULL DEFAULT 0,
    sg_priority     REAL,
    sg_label        TEXT    NOT NULL DEFAULT '',
    due_at          REAL,
    due_source      TEXT    NOT NULL DEFAULT '',
    work_s          REAL    NOT NULL DEFAULT 0,
    age_s           REAL    NOT NULL DEFAULT 0,
    usage           REAL    NOT NULL DEFAULT 0,
    target          REAL    NOT NULL DEFAULT 0,
    ranked_at       REAL    NOT NULL
);
CREATE INDEX job_ranks_in_order ON job_ranks (tier, sort_key, submitted_at, job_id);

-- A provisional rank for jobs already waiting; the daemon's first pass replaces it.
INSERT INTO job_ranks (job_id, sort_key, submitted_at, score, artist, ranked_at)
SELECT id, -priority / 100.0, submitted_at, priority / 100.0, priority / 100.0, submitted_at
FROM jobs WHERE state IN ('queued', 'running', 'paused');

CREATE TABLE ranking_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    ranked_at  REAL,
    seconds    REAL,
    jobs       INTEGER NOT NULL DEFAULT 0
);
INSERT INTO ranking_state (id) VALUES (1);

-- Production's overrides, and every change to them with who and when.
CREATE TABLE job_pins (
    job_id  INTEGER PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    by      TEXT NOT NULL,
    at      REAL NOT NULL,
    note    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE show_policies (
    project   TEXT PRIMARY KEY,
    share     REAL    NOT NULL DEFAULT 1,
    held      INTEGER NOT NULL DEFAULT 0,
    held_by   TEXT,
    held_at   REAL,
    share_by  TEXT,
    share_at  REAL
);
CREATE TABLE production_overrides (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      REAL NOT NULL,
    by      TEXT NOT NULL,
    kind    TEXT NOT NULL,       -- pin | unpin | hold | release | share
    target  TEXT NOT NULL,       -- job 12 | show alpha
    value   TEXT NOT NULL,
    note    TEXT NOT NULL DEFAULT ''
);
