-- Who sent a job: the signed-in account, which differs from the owner when a TD or an admin
-- submits for someone else. NULL for jobs stored before it was recorded.
ALTER TABLE jobs ADD COLUMN submitted_by TEXT;
