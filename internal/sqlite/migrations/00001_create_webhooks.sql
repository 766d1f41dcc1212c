-- +goose Up
-- Times are Unix milliseconds (INTEGER); lists of strings and header maps
-- are JSON text, read and written whole.
CREATE TABLE webhooks (
    id                         TEXT PRIMARY KEY,
    tenant_id                  TEXT NOT NULL,
    url                        TEXT NOT NULL,
    events                     TEXT NOT NULL,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at INTEGER NOT NULL DEFAULT 0,
    max_retries                INTEGER NOT NULL,
    initial_delay_ms           INTEGER NOT NULL,
    max_delay_ms               INTEGER NOT NULL,
    backoff_factor             REAL NOT NULL,
    headers                    TEXT NOT NULL,
    active                     INTEGER NOT NULL,
    description                TEXT NOT NULL,
    max_in_flight              INTEGER NOT NULL,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL,
    last_used_at               INTEGER NOT NULL DEFAULT 0,
    success_count              INTEGER NOT NULL DEFAULT 0,
    error_count                INTEGER NOT NULL DEFAULT 0
);

-- Lists are newest first within a tenant.
CREATE INDEX webhooks_tenant_created ON webhooks (tenant_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE webhooks;
