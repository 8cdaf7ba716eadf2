-- Production jobs: what a job needs of a node (matched by the lease in SQL), what a node has,
-- dependencies between jobs and between their frames, licence limits, and failures contained
-- (classified, kept off the nodes that keep failing a job, suspect nodes).

-- A job's requirements, copied out of its spec so the lease query can match them.
ALTER TABLE jobs ADD COLUMN req_pool TEXT NOT NULL DEFAULT '';          -- '' = any pool
ALTER TABLE jobs ADD COLUMN req_os TEXT NOT NULL DEFAULT '';            -- '' = any OS
ALTER TABLE jobs ADD COLUMN req_memory_mb INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN req_gpus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN req_gpu_memory_mb INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN req_dcc_version TEXT NOT NULL DEFAULT '';   -- '' = any version
ALTER TABLE jobs ADD COLUMN req_tags TEXT NOT NULL DEFAULT '[]';        -- JSON list, all needed

-- What a node has, as its agent reports it (and the pool and tags a TD gives it).
ALTER TABLE agents ADD COLUMN os TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN gpus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE agents ADD COLUMN gpu_memory_mb INTEGER NOT NULL DEFAULT 0; -- of its largest GPU
ALTER TABLE agents ADD COLUMN gpu_list TEXT NOT NULL DEFAULT '[]';      -- JSON [{model, memory_mb}]
ALTER TABLE agents ADD COLUMN dcc_versions TEXT NOT NULL DEFAULT '{}';  -- JSON {dcc: version}
ALTER TABLE agents ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';          -- JSON list
ALTER TABLE agents ADD COLUMN labels_by_td INTEGER NOT NULL DEFAULT 0;  -- a TD set pool/tags
ALTER TABLE agents ADD COLUMN suspect TEXT NOT NULL DEFAULT '';         -- why it stopped leasing
ALTER TABLE agents ADD COLUMN failures_in_a_row INTEGER NOT NULL DEFAULT 0;

-- A task's last failure class, when it may next be leased, and the memory its next node needs.
ALTER TABLE tasks ADD COLUMN error_class TEXT NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN not_before REAL;
ALTER TABLE tasks ADD COLUMN min_memory_mb INTEGER NOT NULL DEFAULT 0;

-- How often each node failed each job; kept_off = 1: the node gets no more of that job.
CREATE TABLE node_job_failures (
    job_id      INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    agent_id    TEXT    NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    failures    INTEGER NOT NULL DEFAULT 0,
    kept_off    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    last_at     REAL    NOT NULL,
    PRIMARY KEY (job_id, agent_id)
) WITHOUT ROWID;

-- Job -> the jobs it waits for. frames = 'all': every task waits until the other job
-- succeeded; 'same': frame N waits for frame N of the other job (through task_dependencies).
CREATE TABLE job_dependencies (
    job_id       INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    upstream_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    frames       TEXT    NOT NULL DEFAULT 'all',
    PRIMARY KEY (job_id, upstream_id)
) WITHOUT ROWID;
CREATE INDEX job_dependencies_by_upstream ON job_dependencies (upstream_id, job_id);

-- Task -> the tasks of another job holding the same frames; queued until they are all done.
CREATE TABLE task_dependencies (
    task_id           INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    upstream_task_id  INTEGER NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, upstream_task_id)
) WITHOUT ROWID;
CREATE INDEX task_dependencies_by_upstream ON task_dependencies (upstream_task_id, task_id);

-- Named counters a TD sets (licences, shared resources). A unit is held by every leased or
-- running task of a job that consumes the limit, so it comes back whenever the task ends.
CREATE TABLE limits (
    name        TEXT    PRIMARY KEY,
    capacity    INTEGER NOT NULL,
    per_node    INTEGER NOT NULL DEFAULT 0,   -- 1: the capacity is per node
    updated_at  REAL    NOT NULL,
    updated_by  TEXT    NOT NULL DEFAULT ''
);

CREATE TABLE job_limits (
    job_id  INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name    TEXT    NOT NULL,
    PRIMARY KEY (job_id, name)
) WITHOUT ROWID;
CREATE INDEX job_limits_by_name ON job_limits (name, job_id);
