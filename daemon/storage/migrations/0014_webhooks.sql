-- Notifications: the webhooks people subscribe (their own jobs' events, or a show's), and the
-- outbox of deliveries, written in the transaction of the event and sent by the scheduler.

CREATE TABLE webhooks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    url          TEXT    NOT NULL,
    events       TEXT    NOT NULL,            -- JSON list of event names
    format       TEXT    NOT NULL,            -- json | slack
    scope        TEXT    NOT NULL,            -- user | show
    project      TEXT,                        -- the show of a show webhook
    secret       TEXT    NOT NULL,            -- signs each body (HMAC-SHA256); never sent back
    description  TEXT    NOT NULL DEFAULT '',
    created_at   REAL    NOT NULL
);
CREATE INDEX webhooks_user ON webhooks (user_id);
CREATE INDEX webhooks_project ON webhooks (project) WHERE project IS NOT NULL;

-- One event to one webhook. job_id names no foreign key: a delivery outlives its job's row.
CREATE TABLE webhook_deliveries (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id       INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event            TEXT    NOT NULL,
    job_id           INTEGER,
    project          TEXT,
    body             TEXT    NOT NULL,        -- exactly the bytes sent (and signed)
    state            TEXT    NOT NULL DEFAULT 'pending',   -- pending | delivered | dropped
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_status      INTEGER,
    last_error       TEXT    NOT NULL DEFAULT '',
    created_at       REAL    NOT NULL,
    next_attempt_at  REAL    NOT NULL,
    done_at          REAL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (state, next_attempt_at, id);
CREATE INDEX webhook_deliveries_hook ON webhook_deliveries (webhook_id, id);
CREATE INDEX webhook_deliveries_job ON webhook_deliveries (job_id, event, created_at);

-- Shows whose cloud budget was found spent: told once, until the budget has room again.
CREATE TABLE budget_alerts (
    project     TEXT PRIMARY KEY,
    reached_at  REAL NOT NULL
) WITHOUT ROWID;
