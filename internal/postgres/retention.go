package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// purgeLock names the advisory lock that lets one process at a time
// purge, however many share the schema; other schemas (other heralds on
// the same server) have their own.
const purgeLock = `hashtextextended('herald.purge.' || current_schema(), 0)`

// Purge deletes up to limit events created before eventsBefore whose
// deliveries are all final, with those deliveries and their attempts, and
// up to limit idempotency keys created before keysBefore. It returns the
// larger of the two counts, or 0 at once when another process is purging.
func (s *Store) Purge(ctx context.Context, eventsBefore, keysBefore time.Time, limit int) (int, error) {
	var events, keys int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var mine bool
		if err := tx.QueryRow(ctx, `SELECT pg_try_advisory_xact_lock(`+purgeLock+`)`).Scan(&mine); err != nil || !mine {
			return err
		}
		// Data-modifying CTEs share one snapshot: the attempts of the
		// deliveries deleted here go with them.
		tag, err := tx.Exec(ctx, `WITH old AS (
				SELECT id FROM events e WHERE created_at < $1
				AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
				ORDER BY created_at LIMIT $2),
			gone AS (DELETE FROM deliveries WHERE event_id IN (SELECT id FROM old) RETURNING id),
			attempts_gone AS (DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM gone))
			DELETE FROM events WHERE id IN (SELECT id FROM old)`, millis(eventsBefore), limit)
		if err != nil {
			return err
		}
		events = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `DELETE FROM idempotency_keys WHERE ctid IN
			(SELECT ctid FROM idempotency_keys WHERE created_at < $1 LIMIT $2)`, millis(keysBefore), limit)
		keys = tag.RowsAffected()
		return err
	})
	return int(max(events, keys)), err
}
