package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald"
)

// BeginIdempotent claims key, or returns what is remembered of it.
func (s *Store) BeginIdempotent(ctx context.Context, tenantID, key, fingerprint string, now time.Time) (*herald.IdempotencyRecord, error) {
	var rec *herald.IdempotencyRecord
	// Through the group writer: a publish with an Idempotency-Key then
	// shares its commits instead of adding two of its own.
	err := s.group.write(ctx, func(tx *batchTx) error {
		rec = nil
		var (
			r         herald.IdempotencyRecord
			createdAt int64
		)
		err := tx.queryRow(ctx, `SELECT fingerprint, done, status_code, body, created_at
			FROM idempotency_keys WHERE tenant_id = ? AND key = ?`, tenantID, key).
			Scan(&r.Fingerprint, &r.Done, &r.StatusCode, &r.Body, &createdAt)
		switch {
		case err == nil && now.Sub(fromMillis(createdAt)) < herald.IdempotencyTTL:
			r.CreatedAt = fromMillis(createdAt)
			rec = &r
			return nil
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return err
		}
		// Free or expired: take it.
		_, err = tx.exec(ctx, `INSERT INTO idempotency_keys (tenant_id, key, fingerprint, created_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id, key) DO UPDATE SET
			fingerprint = excluded.fingerprint, done = 0, status_code = 0, body = NULL,
			created_at = excluded.created_at`, tenantID, key, fingerprint, millis(now))
		return interpretError(err)
	})
	return rec, err
}

// CompleteIdempotent stores the answer for key.
func (s *Store) CompleteIdempotent(ctx context.Context, tenantID, key string, statusCode int, body []byte) error {
	return s.group.write(ctx, func(tx *batchTx) error {
		_, err := tx.exec(ctx, `UPDATE idempotency_keys SET done = 1, status_code = ?, body = ?
			WHERE tenant_id = ? AND key = ?`, statusCode, body, tenantID, key)
		return err
	})
}

// ReleaseIdempotent forgets key.
func (s *Store) ReleaseIdempotent(ctx context.Context, tenantID, key string) error {
	return s.group.write(ctx, func(tx *batchTx) error {
		_, err := tx.exec(ctx, `DELETE FROM idempotency_keys WHERE tenant_id = ? AND key = ?`, tenantID, key)
		return err
	})
}
