package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// Backlog counts pending deliveries and finds the oldest.
func (s *Store) Backlog(ctx context.Context) (int64, time.Time, error) {
	var (
		n      int64
		oldest int64
	)
	err := s.reader.QueryRowContext(ctx, `SELECT count(*), coalesce(min(created_at), 0)
		FROM deliveries WHERE status = 'pending'`).Scan(&n, &oldest)
	return n, fromMillis(oldest), err
}

// ActiveWebhookIDs lists the active webhooks of every tenant.
func (s *Store) ActiveWebhookIDs(ctx context.Context) ([]string, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT id FROM webhooks WHERE active = 1`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// claimQuery reads the front of one webhook's due deliveries through
// deliveries_due (webhook_id, next_attempt_at), skipping leased ones.
const claimQuery = `SELECT d.id, d.tenant_id, d.event_id, d.attempts, e.payload
	FROM deliveries d JOIN events e ON e.id = d.event_id
	WHERE d.webhook_id = ? AND d.status = 'pending' AND d.next_attempt_at <= ? AND d.leased_until <= ?
	ORDER BY d.next_attempt_at LIMIT ?`

// ClaimJobs leases the front of one webhook's due deliveries. The query
// walks deliveries_due from its start for this webhook, so its cost is
// bounded by limit plus the leased rows it skips, not by the backlog.
func (s *Store) ClaimJobs(ctx context.Context, webhookID string, limit int, now, leaseUntil time.Time) ([]*herald.Job, time.Time, error) {
	var (
		jobs    []*herald.Job
		nextDue time.Time
	)
	err := s.group.write(ctx, func(tx *batchTx) error {
		jobs, nextDue = jobs[:0], time.Time{}
		rows, err := tx.query(ctx, claimQuery, webhookID, millis(now), millis(now), limit)
		if err != nil {
			return err
		}
		ids := make([]any, 0, limit+1)
		ids = append(ids, millis(leaseUntil))
		for rows.Next() {
			j := &herald.Job{WebhookID: webhookID}
			if err := rows.Scan(&j.DeliveryID, &j.TenantID, &j.EventID, &j.Attempts, &j.Payload); err != nil {
				rows.Close()
				return err
			}
			jobs = append(jobs, j)
			ids = append(ids, j.DeliveryID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(jobs) > 0 {
			_, err = tx.execDynamic(ctx, `UPDATE deliveries SET leased_until = ? WHERE id IN (`+placeholders(len(jobs))+`)`, ids...)
			if err != nil {
				return err
			}
		}
		var next sql.NullInt64
		if err := tx.queryRow(ctx, nextDueQuery, webhookID, millis(now)).Scan(&next); err != nil {
			return err
		}
		nextDue = fromMillis(next.Int64)
		return nil
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	return jobs, nextDue, nil
}

// nextDueQuery finds when the webhook's next unleased pending delivery is
// due, walking deliveries_due past the leased ones.
const nextDueQuery = `SELECT min(next_attempt_at) FROM deliveries
	WHERE webhook_id = ? AND status = 'pending' AND leased_until <= ?`

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

// ReleaseJobs ends the leases of the given deliveries.
func (s *Store) ReleaseJobs(ctx context.Context, deliveryIDs []string) error {
	return s.updateLeases(ctx, deliveryIDs, `UPDATE deliveries SET leased_until = 0 WHERE id IN (%s)`)
}

// ExtendLeases moves the leases still running at now to until.
func (s *Store) ExtendLeases(ctx context.Context, deliveryIDs []string, now, until time.Time) error {
	return s.updateLeases(ctx, deliveryIDs,
		`UPDATE deliveries SET leased_until = ? WHERE leased_until > ? AND id IN (%s)`, millis(until), millis(now))
}

// maxIDsPerStatement keeps IN lists well under SQLite's limit on
// parameters.
const maxIDsPerStatement = 500

// updateLeases runs query, whose %s takes the ids' placeholders after
// the leading args, over deliveryIDs in chunks, in one transaction.
func (s *Store) updateLeases(ctx context.Context, deliveryIDs []string, query string, leading ...any) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	return s.group.write(ctx, func(tx *batchTx) error {
		for chunk := range slices.Chunk(deliveryIDs, maxIDsPerStatement) {
			args := append([]any(nil), leading...)
			for _, id := range chunk {
				args = append(args, id)
			}
			if _, err := tx.execDynamic(ctx, fmt.Sprintf(query, placeholders(len(chunk))), args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// ResetLeases ends every lease.
func (s *Store) ResetLeases(ctx context.Context) error {
	_, err := s.writer.ExecContext(ctx, `UPDATE deliveries SET leased_until = 0 WHERE status = 'pending' AND leased_until > 0`)
	return interpretError(err)
}

// RecordAttempts records outcomes in the group writer's shared
// transaction: one UPDATE and one INSERT per attempt, and one counter
// UPDATE per webhook in the batch.
func (s *Store) RecordAttempts(ctx context.Context, results []herald.AttemptResult) error {
	return s.group.write(ctx, func(tx *batchTx) error {
		for _, r := range results {
			a := r.Attempt
			var n int
			err := tx.queryRow(ctx, `UPDATE deliveries SET
				status = CASE WHEN status = 'pending' THEN ? ELSE status END,
				attempts = attempts + 1, next_attempt_at = ?, leased_until = 0,
				last_status_code = ?, last_error = ?, updated_at = ?
				WHERE id = ? RETURNING attempts`,
				string(r.Status), millis(r.NextAttemptAt), a.StatusCode, a.Error, millis(a.AttemptedAt),
				r.Job.DeliveryID).Scan(&n)
			if errors.Is(err, sql.ErrNoRows) {
				continue // the delivery is gone; nothing to log it against
			}
			if err != nil {
				return err
			}
			_, err = tx.exec(ctx, `INSERT INTO attempts (delivery_id, attempt, attempted_at, status_code,
				latency_ms, error, response_body) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
				r.Job.DeliveryID, n, millis(a.AttemptedAt), a.StatusCode, a.Latency.Milliseconds(), a.Error, a.ResponseBody)
			if err != nil {
				return err
			}
		}
		for id, o := range herald.SummarizeAttempts(results) {
			if _, err := tx.exec(ctx, webhookOutcomeSQL, webhookOutcomeArgs(id, o)...); err != nil {
				return err
			}
		}
		return nil
	})
}

// webhookOutcomeSQL applies a herald.WebhookOutcome to its webhook in one
// statement: counters, the run of failures, and auto-disable. SET
// expressions all read the row as it was, so the new failing_since is
// spelled out where the disable test needs it.
const webhookOutcomeSQL = `UPDATE webhooks SET
	success_count = success_count + ?1, error_count = error_count + ?2,
	last_used_at = max(last_used_at, ?3),
	failing_since = ` + newFailingSince + `,
	active = CASE WHEN ` + disables + ` THEN 0 ELSE active END,
	disabled_reason = CASE WHEN ` + disables + ` THEN ?9 ELSE disabled_reason END,
	disabled_at = CASE WHEN ` + disables + ` THEN ?3 ELSE disabled_at END
	WHERE id = ?10`

const (
	newFailingSince = `(CASE WHEN ?4 THEN 0 WHEN ?5 OR failing_since = 0 THEN ?6 ELSE failing_since END)`
	disables        = `(active AND (?7 OR (?8 > 0 AND ` + newFailingSince + ` BETWEEN 1 AND ?8)))`
)

func webhookOutcomeArgs(id string, o *herald.WebhookOutcome) []any {
	return []any{o.OK, o.Failed, millis(o.LastAt), o.Recovered, o.Restarted(), millis(o.FailingFrom),
		o.Gone, millis(o.DisableCutoff()), o.DisableReason(), id}
}

const deliveryColumns = `d.id, d.tenant_id, d.event_id, e.type, d.webhook_id, d.status, d.attempts,
	d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.updated_at`

func (s *Store) queryDeliveries(ctx context.Context, where string, args ...any) ([]*herald.Delivery, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT `+deliveryColumns+`
		FROM deliveries d JOIN events e ON e.id = d.event_id `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*herald.Delivery
	for rows.Next() {
		var (
			d                          herald.Delivery
			status                     string
			next, createdAt, updatedAt int64
		)
		err := rows.Scan(&d.ID, &d.TenantID, &d.EventID, &d.EventType, &d.WebhookID, &status, &d.Attempts,
			&next, &d.LastStatusCode, &d.LastError, &createdAt, &updatedAt)
		if err != nil {
			return nil, err
		}
		d.Status = herald.DeliveryStatus(status)
		if d.Status == herald.DeliveryPending {
			d.NextAttemptAt = fromMillis(next)
		}
		d.CreatedAt, d.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
		list = append(list, &d)
	}
	return list, rows.Err()
}

// ListDeliveries returns a page of a webhook's deliveries with attempts.
func (s *Store) ListDeliveries(ctx context.Context, tenantID, webhookID string, f herald.DeliveryFilter) ([]*herald.Delivery, int, error) {
	if _, err := s.GetWebhook(ctx, tenantID, webhookID); err != nil {
		return nil, 0, err
	}
	var total int
	err := s.reader.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE webhook_id = ? AND (? = '' OR status = ?)`,
		webhookID, string(f.Status), string(f.Status)).Scan(&total)
	if err != nil {
		return nil, 0, err
	}
	list, err := s.queryDeliveries(ctx, `WHERE d.webhook_id = ? AND (? = '' OR d.status = ?)
		ORDER BY d.created_at DESC, d.id DESC LIMIT ? OFFSET ?`,
		webhookID, string(f.Status), string(f.Status), f.Limit, f.Offset)
	if err != nil {
		return nil, 0, err
	}
	if err := s.attachAttempts(ctx, list); err != nil {
		return nil, 0, err
	}
	return list, total, nil
}

func (s *Store) attachAttempts(ctx context.Context, list []*herald.Delivery) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*herald.Delivery, len(list))
	args := make([]any, len(list))
	for i, d := range list {
		byID[d.ID], args[i] = d, d.ID
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT delivery_id, attempt, attempted_at, status_code, latency_ms,
		error, response_body FROM attempts WHERE delivery_id IN (`+placeholders(len(args))+`)
		ORDER BY delivery_id, attempt`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id        string
			a         herald.Attempt
			at, latMS int64
		)
		if err := rows.Scan(&id, &a.N, &at, &a.StatusCode, &latMS, &a.Error, &a.ResponseBody); err != nil {
			return err
		}
		a.AttemptedAt, a.Latency = fromMillis(at), time.Duration(latMS)*time.Millisecond
		byID[id].AttemptLog = append(byID[id].AttemptLog, a)
	}
	return rows.Err()
}

// RetryDelivery makes one delivery due now.
func (s *Store) RetryDelivery(ctx context.Context, tenantID, webhookID, deliveryID string, now time.Time) (*herald.Delivery, error) {
	var status string
	err := s.writer.QueryRowContext(ctx, `SELECT status FROM deliveries WHERE id = ? AND webhook_id = ? AND tenant_id = ?`,
		deliveryID, webhookID, tenantID).Scan(&status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, herald.NotFoundf("delivery %q not found for webhook %q", deliveryID, webhookID)
	case err != nil:
		return nil, err
	case status == string(herald.DeliveryCancelled):
		return nil, herald.Errorf(herald.CodeConflict, "delivery %q was cancelled with its webhook", deliveryID)
	}
	_, err = s.writer.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?
		WHERE id = ? AND status != 'cancelled'`, millis(now), millis(now), deliveryID)
	if err != nil {
		return nil, interpretError(err)
	}
	list, err := s.queryDeliveries(ctx, `WHERE d.id = ?`, deliveryID)
	if err != nil || len(list) == 0 {
		return nil, errors.Join(err, herald.NotFoundf("delivery %q not found", deliveryID))
	}
	return list[0], s.attachAttempts(ctx, list)
}

// RecoverDeliveries makes the webhook's failed deliveries since a time due
// now.
func (s *Store) RecoverDeliveries(ctx context.Context, tenantID, webhookID string, since, now time.Time) (int, error) {
	if _, err := s.GetWebhook(ctx, tenantID, webhookID); err != nil {
		return 0, err
	}
	res, err := s.writer.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, updated_at = ?
		WHERE webhook_id = ? AND status = 'failed' AND created_at >= ?`, millis(now), millis(now), webhookID, millis(since))
	if err != nil {
		return 0, interpretError(err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
