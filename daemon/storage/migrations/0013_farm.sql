-- A TD's hand on each node, and the farm's history for the farm page's charts.

-- enabled: the node leases; disabled: it leases nothing new (running work continues);
-- drain: it finishes what it runs, then leases nothing (shown as draining, then drained).
ALTER TABLE agents ADD COLUMN control TEXT NOT NULL DEFAULT 'enabled';
ALTER TABLE agents ADD COLUMN control_by TEXT NOT NULL DEFAULT '';   -- who set it
ALTER TABLE agents ADD COLUMN control_at REAL;                       -- when

-- One row per sample (every [monitoring] sample_interval_s), kept [monitoring] history_keep_s.
CREATE TABLE farm_samples (
    at               REAL    PRIMARY KEY,
    agents_online    INTEGER NOT NULL,
    agents_busy      INTEGER NOT NULL,   -- online and holding a leased or running task
    queue_depth      INTEGER NOT NULL,   -- queued tasks of jobs that may run
    frames_per_hour  INTEGER NOT NULL    -- frames finished in the hour before the sample
) WITHOUT ROWID;

-- Each show's cloud spend so far (compute, storage, egress) at each sample; shows that spent
-- nothing are left out.
CREATE TABLE farm_spend_samples (
    at       REAL NOT NULL REFERENCES farm_samples (at) ON DELETE CASCADE,
    project  TEXT NOT NULL,
    spent    REAL NOT NULL,
    PRIMARY KEY (at, project)
) WITHOUT ROWID;
