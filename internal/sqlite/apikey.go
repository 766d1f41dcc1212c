package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/heraldhq/herald"
)

// CreateAPIKey stores a key's hash.
func (s *Store) CreateAPIKey(ctx context.Context, k *herald.APIKey) error {
	_, err := s.writer.ExecContext(ctx, `INSERT INTO api_keys (id, tenant_id, hash, hint, created_at)
		VALUES (?, ?, ?, ?, ?)`, k.ID, k.TenantID, k.Hash, k.Hint, millis(k.CreatedAt))
	return interpretError(err)
}

// ListAPIKeys lists every key, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context) ([]*herald.APIKey, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT id, tenant_id, hash, hint, created_at, revoked_at
		FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var keys []*herald.APIKey
	for rows.Next() {
		var (
			k                  herald.APIKey
			created, revokedAt int64
		)
		if err := rows.Scan(&k.ID, &k.TenantID, &k.Hash, &k.Hint, &created, &revokedAt); err != nil {
			return nil, err
		}
		k.CreatedAt, k.RevokedAt = fromMillis(created), fromMillis(revokedAt)
		keys = append(keys, &k)
	}
	return keys, rows.Err()
}

// RevokeAPIKey stops a key from working.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, now time.Time) error {
	res, err := s.writer.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at = 0`, millis(now), id)
	if err != nil {
		return interpretError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return herald.NotFoundf("no working API key %q", id)
	}
	return nil
}

// TenantForAPIKey returns the tenant of a working key.
func (s *Store) TenantForAPIKey(ctx context.Context, hash string) (string, error) {
	var tenant string
	err := s.reader.QueryRowContext(ctx, `SELECT tenant_id FROM api_keys WHERE hash = ? AND revoked_at = 0`, hash).Scan(&tenant)
	if errors.Is(err, sql.ErrNoRows) {
		return "", herald.Errorf(herald.CodeUnauthorized, "unknown or revoked API key")
	}
	return tenant, err
}
