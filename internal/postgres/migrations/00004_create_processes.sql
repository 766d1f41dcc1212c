-- +goose Up
-- Each running herald refreshes its row every few seconds, so every
-- process knows how many share the work (to split per-webhook send caps).
CREATE TABLE processes (
    id      TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE processes;
