package sqlite

import (
	"context"
	"time"
)

// Purge deletes up to limit events created before eventsBefore whose
// deliveries are all final, with those deliveries and their attempts, and
// up to limit idempotency keys created before keysBefore, in the group
// writer's transaction. It returns the larger of the two counts.
func (s *Store) Purge(ctx context.Context, eventsBefore, keysBefore time.Time, limit int) (int, error) {
	var events, keys int
	err := s.group.write(ctx, func(tx *batchTx) error {
		rows, err := tx.query(ctx, `SELECT id FROM events e WHERE created_at < ?
			AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status = 'pending')
			ORDER BY created_at LIMIT ?`, millis(eventsBefore), limit)
		if err != nil {
			return err
		}
		var ids []any
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(ids) > 0 {
			in := placeholders(len(ids))
			for _, q := range []string{
				`DELETE FROM attempts WHERE delivery_id IN (SELECT id FROM deliveries WHERE event_id IN (` + in + `))`,
				`DELETE FROM deliveries WHERE event_id IN (` + in + `)`,
				`DELETE FROM events WHERE id IN (` + in + `)`,
			} {
				if _, err := tx.execDynamic(ctx, q, ids...); err != nil {
					return err
				}
			}
		}
		events = len(ids)
		res, err := tx.exec(ctx, `DELETE FROM idempotency_keys WHERE rowid IN
			(SELECT rowid FROM idempotency_keys WHERE created_at < ? LIMIT ?)`, millis(keysBefore), limit)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		keys = int(n)
		return nil
	})
	return max(events, keys), err
}
