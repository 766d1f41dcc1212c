-- +goose Up
-- failing_since: start of the current run of failed attempts (0: none).
-- disabled_reason/disabled_at: why and when herald deactivated a webhook.
ALTER TABLE webhooks ADD COLUMN failing_since INTEGER NOT NULL DEFAULT 0;
ALTER TABLE webhooks ADD COLUMN disabled_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN disabled_at INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN disabled_at;
ALTER TABLE webhooks DROP COLUMN disabled_reason;
ALTER TABLE webhooks DROP COLUMN failing_since;
