-- Idempotency keys of submissions.
-- Times are UTC seconds since the epoch (REAL).

-- A POST /jobs sent with an Idempotency-Key: stored in the job's own transaction, so a resend
-- after a dropped connection finds the job instead of storing a second one.
CREATE TABLE idempotency_keys (
    caller        TEXT    NOT NULL,             -- who sent it (kind:name): keys are per caller
    key           TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,             -- SHA-256 of the validated request
    job_id        INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    response      TEXT,                         -- the first answer's data (JSON); NULL until kept
    created_at    REAL    NOT NULL,
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);

