-- +goose Up
-- Times are Unix milliseconds (BIGINT), as in the SQLite store, so both
-- stores share one time model; lists and header maps are JSON.
CREATE TABLE webhooks (
    id                         TEXT PRIMARY KEY,
    tenant_id                  TEXT NOT NULL,
    url                        TEXT NOT NULL,
    events                     JSONB NOT NULL,
    secret                     TEXT NOT NULL,
    previous_secret            TEXT NOT NULL DEFAULT '',
    previous_secret_expires_at BIGINT NOT NULL DEFAULT 0,
    max_retries                INTEGER NOT NULL,
    initial_delay_ms           BIGINT NOT NULL,
    max_delay_ms               BIGINT NOT NULL,
    backoff_factor             DOUBLE PRECISION NOT NULL,
    headers                    JSONB NOT NULL,
    active                     BOOLEAN NOT NULL,
    description                TEXT NOT NULL,
    max_in_flight              INTEGER NOT NULL,
    created_at                 BIGINT NOT NULL,
    updated_at                 BIGINT NOT NULL,
    last_used_at               BIGINT NOT NULL DEFAULT 0,
    success_count              BIGINT NOT NULL DEFAULT 0,
    error_count                BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhooks_tenant_created ON webhooks (tenant_id, created_at DESC, id DESC);

-- +goose Down
DROP TABLE webhooks;
