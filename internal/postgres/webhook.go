package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald"
)

const webhookColumns = `id, tenant_id, url, events, secret, previous_secret,
	previous_secret_expires_at, max_retries, initial_delay_ms, max_delay_ms,
	backoff_factor, headers, active, description, max_in_flight, created_at,
	updated_at, last_used_at, success_count, error_count, failing_since,
	disabled_reason, disabled_at`

// CreateWebhook stores a new webhook. With a cap, a transaction-scoped
// advisory lock per tenant makes count-then-insert atomic across
// processes.
func (s *Store) CreateWebhook(ctx context.Context, w *herald.Webhook, maxPerTenant int) error {
	events, headers, err := encodeWebhookJSON(w)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if maxPerTenant > 0 {
			// The count needs its own statement: one statement's
			// snapshot is taken before its lock is granted.
			_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('herald.webhooks.' || $1, 0))`, w.TenantID)
			if err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM webhooks WHERE tenant_id = $1`, w.TenantID).Scan(&n); err != nil {
				return err
			}
			if n >= maxPerTenant {
				return herald.TooManyWebhooks(maxPerTenant)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO webhooks (`+webhookColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
				$21, $22, $23)`,
			w.ID, w.TenantID, w.URL, events, w.Secret, w.PreviousSecret,
			millis(w.PreviousSecretExpiresAt), w.RetryPolicy.MaxRetries,
			w.RetryPolicy.InitialDelay.Milliseconds(), w.RetryPolicy.MaxDelay.Milliseconds(),
			w.RetryPolicy.BackoffFactor, headers, w.Active, w.Description, w.MaxInFlight,
			millis(w.CreatedAt), millis(w.UpdatedAt), millis(w.LastUsedAt), w.SuccessCount, w.ErrorCount,
			millis(w.FailingSince), w.DisabledReason, millis(w.DisabledAt))
		return interpretError(err)
	})
}

type queryer interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// GetWebhook returns one webhook of the tenant.
func (s *Store) GetWebhook(ctx context.Context, tenantID, id string) (*herald.Webhook, error) {
	return getWebhook(ctx, s.pool, tenantID, id, "")
}

func getWebhook(ctx context.Context, q queryer, tenantID, id, lock string) (*herald.Webhook, error) {
	w, err := scanWebhook(q.QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE tenant_id = $1 AND id = $2 `+lock, tenantID, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, herald.NotFoundf("webhook %q not found", id)
	}
	return w, err
}

// ListWebhooks returns one page of the tenant's webhooks, newest first.
func (s *Store) ListWebhooks(ctx context.Context, tenantID string, f herald.WebhookFilter) ([]*herald.Webhook, int, error) {
	var total int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM webhooks WHERE tenant_id = $1 AND (active OR NOT $2)`,
		tenantID, f.ActiveOnly).Scan(&total)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE tenant_id = $1 AND (active OR NOT $2)
		ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4`, tenantID, f.ActiveOnly, f.Limit, f.Offset)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var list []*herald.Webhook
	for rows.Next() {
		w, err := scanWebhook(rows)
		if err != nil {
			return nil, 0, err
		}
		list = append(list, w)
	}
	return list, total, rows.Err()
}

// UpdateWebhook changes a webhook under a row lock, so concurrent updates
// apply one after the other.
func (s *Store) UpdateWebhook(ctx context.Context, tenantID, id string, fn func(*herald.Webhook) error) (*herald.Webhook, error) {
	var w *herald.Webhook
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if w, err = getWebhook(ctx, tx, tenantID, id, "FOR UPDATE"); err != nil {
			return err
		}
		if err := fn(w); err != nil {
			return err
		}
		events, headers, err := encodeWebhookJSON(w)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE webhooks SET url = $1, events = $2,
			secret = $3, previous_secret = $4, previous_secret_expires_at = $5,
			max_retries = $6, initial_delay_ms = $7, max_delay_ms = $8, backoff_factor = $9,
			headers = $10, active = $11, description = $12, max_in_flight = $13, updated_at = $14,
			failing_since = $15, disabled_reason = $16, disabled_at = $17
			WHERE tenant_id = $18 AND id = $19`,
			w.URL, events, w.Secret, w.PreviousSecret, millis(w.PreviousSecretExpiresAt),
			w.RetryPolicy.MaxRetries, w.RetryPolicy.InitialDelay.Milliseconds(),
			w.RetryPolicy.MaxDelay.Milliseconds(), w.RetryPolicy.BackoffFactor,
			headers, w.Active, w.Description, w.MaxInFlight, millis(w.UpdatedAt),
			millis(w.FailingSince), w.DisabledReason, millis(w.DisabledAt), tenantID, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteWebhook removes a webhook and cancels its pending deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, tenantID, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM webhooks WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return herald.NotFoundf("webhook %q not found", id)
		}
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'cancelled', updated_at = $1
			WHERE webhook_id = $2 AND status = 'pending'`, time.Now().UnixMilli(), id)
		return err
	})
}

// RecordWebhookUse counts one attempt in a single statement.
func (s *Store) RecordWebhookUse(ctx context.Context, tenantID, id string, success bool, at time.Time) error {
	ok := int64(0)
	if success {
		ok = 1
	}
	tag, err := s.pool.Exec(ctx, `UPDATE webhooks SET success_count = success_count + $1,
		error_count = error_count + $2, last_used_at = greatest(last_used_at, $3),
		failing_since = CASE WHEN $1 = 1 THEN 0 ELSE failing_since END
		WHERE tenant_id = $4 AND id = $5`, ok, 1-ok, millis(at), tenantID, id)
	if err != nil {
		return interpretError(err)
	}
	if tag.RowsAffected() == 0 {
		return herald.NotFoundf("webhook %q not found", id)
	}
	return nil
}

// WebhookStats returns the tenant's webhook and delivery totals.
func (s *Store) WebhookStats(ctx context.Context, tenantID string) (*herald.WebhookStats, error) {
	var st herald.WebhookStats
	err := s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE active)
		FROM webhooks WHERE tenant_id = $1`, tenantID).Scan(&st.TotalWebhooks, &st.ActiveWebhooks)
	if err != nil {
		return nil, err
	}
	err = s.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'succeeded'),
		count(*) FILTER (WHERE status = 'failed') FROM deliveries WHERE tenant_id = $1`, tenantID).
		Scan(&st.TotalDeliveries, &st.SuccessfulDeliveries, &st.FailedDeliveries)
	if err != nil {
		return nil, err
	}
	return &st, nil
}

func scanWebhook(row pgx.Row) (*herald.Webhook, error) {
	var (
		w                                herald.Webhook
		events, headers                  []byte
		prevExpires, initialMS, maxMS    int64
		createdAt, updatedAt, lastUsedAt int64
		failingSince, disabledAt         int64
	)
	err := row.Scan(&w.ID, &w.TenantID, &w.URL, &events, &w.Secret, &w.PreviousSecret,
		&prevExpires, &w.RetryPolicy.MaxRetries, &initialMS, &maxMS,
		&w.RetryPolicy.BackoffFactor, &headers, &w.Active, &w.Description, &w.MaxInFlight,
		&createdAt, &updatedAt, &lastUsedAt, &w.SuccessCount, &w.ErrorCount,
		&failingSince, &w.DisabledReason, &disabledAt)
	if err != nil {
		return nil, err
	}
	w.FailingSince, w.DisabledAt = fromMillis(failingSince), fromMillis(disabledAt)
	w.PreviousSecretExpiresAt = fromMillis(prevExpires)
	w.RetryPolicy.InitialDelay = time.Duration(initialMS) * time.Millisecond
	w.RetryPolicy.MaxDelay = time.Duration(maxMS) * time.Millisecond
	w.CreatedAt, w.UpdatedAt, w.LastUsedAt = fromMillis(createdAt), fromMillis(updatedAt), fromMillis(lastUsedAt)
	if err := json.Unmarshal(events, &w.Events); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(headers, &w.Headers); err != nil {
		return nil, err
	}
	return &w, nil
}

func encodeWebhookJSON(w *herald.Webhook) (events, headers string, err error) {
	e, err := json.Marshal(w.Events)
	if err != nil {
		return "", "", err
	}
	h := w.Headers
	if h == nil {
		h = map[string]string{}
	}
	hb, err := json.Marshal(h)
	return string(e), string(hb), err
}
