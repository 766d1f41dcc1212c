package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/heraldhq/herald"
)

const webhookColumns = `id, tenant_id, url, events, secret, previous_secret,
	previous_secret_expires_at, max_retries, initial_delay_ms, max_delay_ms,
	backoff_factor, headers, active, description, max_in_flight, created_at,
	updated_at, last_used_at, success_count, error_count, failing_since,
	disabled_reason, disabled_at`

// CreateWebhook stores a new webhook. One statement counts and inserts;
// SQLite runs one writer at a time, so the cap holds exactly.
func (s *Store) CreateWebhook(ctx context.Context, w *herald.Webhook, maxPerTenant int) error {
	events, headers, err := encodeWebhookJSON(w)
	if err != nil {
		return err
	}
	res, err := s.writer.ExecContext(ctx, `INSERT INTO webhooks (`+webhookColumns+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE ? <= 0 OR (SELECT count(*) FROM webhooks WHERE tenant_id = ?2) < ?24`,
		w.ID, w.TenantID, w.URL, events, w.Secret, w.PreviousSecret,
		millis(w.PreviousSecretExpiresAt), w.RetryPolicy.MaxRetries,
		w.RetryPolicy.InitialDelay.Milliseconds(), w.RetryPolicy.MaxDelay.Milliseconds(),
		w.RetryPolicy.BackoffFactor, headers, w.Active, w.Description, w.MaxInFlight,
		millis(w.CreatedAt), millis(w.UpdatedAt), millis(w.LastUsedAt), w.SuccessCount, w.ErrorCount,
		millis(w.FailingSince), w.DisabledReason, millis(w.DisabledAt),
		maxPerTenant)
	if err != nil {
		return interpretError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return herald.TooManyWebhooks(maxPerTenant)
	}
	return nil
}

// GetWebhook returns one webhook of the tenant.
func (s *Store) GetWebhook(ctx context.Context, tenantID, id string) (*herald.Webhook, error) {
	return getWebhook(ctx, s.reader, tenantID, id)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func getWebhook(ctx context.Context, q queryer, tenantID, id string) (*herald.Webhook, error) {
	row := q.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE tenant_id = ? AND id = ?`, tenantID, id)
	w, err := scanWebhook(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, herald.NotFoundf("webhook %q not found", id)
	}
	return w, err
}

// ListWebhooks returns one page of the tenant's webhooks, newest first.
func (s *Store) ListWebhooks(ctx context.Context, tenantID string, f herald.WebhookFilter) ([]*herald.Webhook, int, error) {
	var total int
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM webhooks
		WHERE tenant_id = ? AND (active = 1 OR NOT ?)`, tenantID, f.ActiveOnly).Scan(&total)
	if err != nil {
		return nil, 0, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+webhookColumns+` FROM webhooks
		WHERE tenant_id = ? AND (active = 1 OR NOT ?)
		ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`,
		tenantID, f.ActiveOnly, f.Limit, f.Offset)
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

// UpdateWebhook changes a webhook's configuration in one transaction.
func (s *Store) UpdateWebhook(ctx context.Context, tenantID, id string, fn func(*herald.Webhook) error) (*herald.Webhook, error) {
	var w *herald.Webhook
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if w, err = getWebhook(ctx, tx, tenantID, id); err != nil {
			return err
		}
		if err := fn(w); err != nil {
			return err
		}
		events, headers, err := encodeWebhookJSON(w)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE webhooks SET url = ?, events = ?,
			secret = ?, previous_secret = ?, previous_secret_expires_at = ?,
			max_retries = ?, initial_delay_ms = ?, max_delay_ms = ?, backoff_factor = ?,
			headers = ?, active = ?, description = ?, max_in_flight = ?, updated_at = ?,
			failing_since = ?, disabled_reason = ?, disabled_at = ?
			WHERE tenant_id = ? AND id = ?`,
			w.URL, events, w.Secret, w.PreviousSecret, millis(w.PreviousSecretExpiresAt),
			w.RetryPolicy.MaxRetries, w.RetryPolicy.InitialDelay.Milliseconds(),
			w.RetryPolicy.MaxDelay.Milliseconds(), w.RetryPolicy.BackoffFactor,
			headers, w.Active, w.Description, w.MaxInFlight, millis(w.UpdatedAt),
			millis(w.FailingSince), w.DisabledReason, millis(w.DisabledAt), tenantID, id)
		return interpretError(err)
	})
	if err != nil {
		return nil, err
	}
	return w, nil
}

// DeleteWebhook removes a webhook and cancels its pending deliveries.
func (s *Store) DeleteWebhook(ctx context.Context, tenantID, id string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE tenant_id = ? AND id = ?`, tenantID, id)
		if err != nil {
			return interpretError(err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return herald.NotFoundf("webhook %q not found", id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE deliveries SET status = 'cancelled', updated_at = ?
			WHERE webhook_id = ? AND status = 'pending'`, time.Now().UnixMilli(), id)
		return interpretError(err)
	})
}

// RecordWebhookUse counts one attempt in a single statement, so concurrent
// attempts never lose a count.
func (s *Store) RecordWebhookUse(ctx context.Context, tenantID, id string, success bool, at time.Time) error {
	ok := 0
	if success {
		ok = 1
	}
	res, err := s.writer.ExecContext(ctx, `UPDATE webhooks SET
		success_count = success_count + ?1, error_count = error_count + ?2,
		last_used_at = max(last_used_at, ?3),
		failing_since = CASE WHEN ?1 = 1 THEN 0 ELSE failing_since END
		WHERE tenant_id = ?4 AND id = ?5`, ok, 1-ok, millis(at), tenantID, id)
	if err != nil {
		return interpretError(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return herald.NotFoundf("webhook %q not found", id)
	}
	return nil
}

// WebhookStats returns the tenant's webhook and delivery totals.
func (s *Store) WebhookStats(ctx context.Context, tenantID string) (*herald.WebhookStats, error) {
	var st herald.WebhookStats
	err := s.reader.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(active), 0)
		FROM webhooks WHERE tenant_id = ?`, tenantID).Scan(&st.TotalWebhooks, &st.ActiveWebhooks)
	if err != nil {
		return nil, err
	}
	err = s.reader.QueryRowContext(ctx, `SELECT count(*),
		coalesce(sum(status = 'succeeded'), 0), coalesce(sum(status = 'failed'), 0)
		FROM deliveries WHERE tenant_id = ?`, tenantID).
		Scan(&st.TotalDeliveries, &st.SuccessfulDeliveries, &st.FailedDeliveries)
	if err != nil {
		return nil, err
	}
	return &st, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanWebhook(row scanner) (*herald.Webhook, error) {
	var (
		w                                herald.Webhook
		events, headers                  string
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
	if err := json.Unmarshal([]byte(events), &w.Events); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(headers), &w.Headers); err != nil {
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
