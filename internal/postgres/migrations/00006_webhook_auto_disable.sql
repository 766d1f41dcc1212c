-- +goose Up
-- failing_since: start of the current run of failed attempts (0: none).
-- disabled_reason/disabled_at: why and when herald deactivated a webhook.
ALTER TABLE webhooks
    ADD COLUMN failing_since BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '',
    ADD COLUMN disabled_at BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE webhooks
    DROP COLUMN disabled_at,
    DROP COLUMN disabled_reason,
    DROP COLUMN failing_since;
