-- +goose Up
-- Retention finds old events and expired idempotency keys by time.
CREATE INDEX events_created ON events (created_at);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP INDEX idempotency_keys_created;
DROP INDEX events_created;
