-- The agent a task was last handed to: a failed or requeued task, whose holder is cleared,
-- still names the node it ran on. Set with each lease; existing holders are copied.
ALTER TABLE tasks ADD COLUMN last_agent_id TEXT;
UPDATE tasks SET last_agent_id = agent_id WHERE agent_id IS NOT NULL;

-- When a finished job was archived: hidden from the default listing (?archived=true lists
-- them). NULL for every job not archived.
ALTER TABLE jobs ADD COLUMN archived_at REAL;
CREATE INDEX jobs_archived ON jobs (archived_at) WHERE archived_at IS NOT NULL;
