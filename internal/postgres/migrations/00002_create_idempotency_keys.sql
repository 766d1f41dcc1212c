-- +goose Up
CREATE TABLE idempotency_keys (
    tenant_id   TEXT NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    done        BOOLEAN NOT NULL DEFAULT false,
    status_code INTEGER NOT NULL DEFAULT 0,
    body        BYTEA,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

-- +goose Down
DROP TABLE idempotency_keys;
