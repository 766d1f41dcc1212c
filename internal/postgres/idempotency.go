package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald"
)

// BeginIdempotent claims key, or returns what is remembered of it. The
// row lock makes concurrent claims of one key take turns.
func (s *Store) BeginIdempotent(ctx context.Context, tenantID, key, fingerprint string, now time.Time) (*herald.IdempotencyRecord, error) {
	var rec *herald.IdempotencyRecord
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, created_at)
			VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, tenantID, key, fingerprint, millis(now))
		if err != nil || tag.RowsAffected() == 1 {
			return err
		}
		var (
			r         herald.IdempotencyRecord
			createdAt int64
		)
		err = tx.QueryRow(ctx, `SELECT fingerprint, done, status_code, body, created_at
			FROM idempotency_keys WHERE tenant_id = $1 AND key = $2 FOR UPDATE`, tenantID, key).
			Scan(&r.Fingerprint, &r.Done, &r.StatusCode, &r.Body, &createdAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return herald.Errorf(herald.CodeConflict, "idempotency key was released meanwhile; retry")
		}
		if err != nil {
			return err
		}
		if now.Sub(fromMillis(createdAt)) < herald.IdempotencyTTL {
			r.CreatedAt = fromMillis(createdAt)
			rec = &r
			return nil
		}
		_, err = tx.Exec(ctx, `UPDATE idempotency_keys SET fingerprint = $1, done = false, status_code = 0,
			body = NULL, created_at = $2 WHERE tenant_id = $3 AND key = $4`, fingerprint, millis(now), tenantID, key)
		return err
	})
	return rec, err
}

// CompleteIdempotent stores the answer for key.
func (s *Store) CompleteIdempotent(ctx context.Context, tenantID, key string, statusCode int, body []byte) error {
	_, err := s.pool.Exec(ctx, `UPDATE idempotency_keys SET done = true, status_code = $1, body = $2
		WHERE tenant_id = $3 AND key = $4`, statusCode, body, tenantID, key)
	return interpretError(err)
}

// ReleaseIdempotent forgets key.
func (s *Store) ReleaseIdempotent(ctx context.Context, tenantID, key string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2`, tenantID, key)
	return interpretError(err)
}
