package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald"
)

// CreateAPIKey stores a key's hash.
func (s *Store) CreateAPIKey(ctx context.Context, k *herald.APIKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (id, tenant_id, hash, hint, created_at)
		VALUES ($1, $2, $3, $4, $5)`, k.ID, k.TenantID, k.Hash, k.Hint, millis(k.CreatedAt))
	return interpretError(err)
}

// ListAPIKeys lists every key, oldest first.
func (s *Store) ListAPIKeys(ctx context.Context) ([]*herald.APIKey, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant_id, hash, hint, created_at, revoked_at
		FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*herald.APIKey, error) {
		var (
			k                  herald.APIKey
			created, revokedAt int64
		)
		err := row.Scan(&k.ID, &k.TenantID, &k.Hash, &k.Hint, &created, &revokedAt)
		k.CreatedAt, k.RevokedAt = fromMillis(created), fromMillis(revokedAt)
		return &k, err
	})
}

// RevokeAPIKey stops a key from working.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at = 0`, millis(now), id)
	if err != nil {
		return interpretError(err)
	}
	if tag.RowsAffected() == 0 {
		return herald.NotFoundf("no working API key %q", id)
	}
	return nil
}

// TenantForAPIKey returns the tenant of a working key.
func (s *Store) TenantForAPIKey(ctx context.Context, hash string) (string, error) {
	var tenant string
	err := s.pool.QueryRow(ctx, `SELECT tenant_id FROM api_keys WHERE hash = $1 AND revoked_at = 0`, hash).Scan(&tenant)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", herald.Errorf(herald.CodeUnauthorized, "unknown or revoked API key")
	}
	return tenant, err
}
