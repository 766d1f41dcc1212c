package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald"
)

// Backlog counts pending deliveries and finds the oldest.
func (s *Store) Backlog(ctx context.Context) (int64, time.Time, error) {
	var n, oldest int64
	err := s.pool.QueryRow(ctx, `SELECT count(*), coalesce(min(created_at), 0)
		FROM deliveries WHERE status = 'pending'`).Scan(&n, &oldest)
	return n, fromMillis(oldest), err
}

// ActiveWebhookIDs lists the active webhooks of every tenant.
func (s *Store) ActiveWebhookIDs(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM webhooks WHERE active`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// claimQuery leases the front of one webhook's due deliveries in one
// statement. SKIP LOCKED lets processes claiming at the same moment take
// different rows instead of queueing behind each other; the lease keeps
// the rows from every other claim once the statement commits.
const claimQuery = `WITH due AS (
		SELECT id FROM deliveries
		WHERE webhook_id = $1 AND status = 'pending' AND next_attempt_at <= $2 AND leased_until <= $2
		ORDER BY next_attempt_at LIMIT $3
		FOR UPDATE SKIP LOCKED)
	UPDATE deliveries d SET leased_until = $4
	FROM due, events e
	WHERE d.id = due.id AND e.id = d.event_id
	RETURNING d.id, d.tenant_id, d.event_id, d.attempts, e.payload`

// ClaimJobs leases up to limit due deliveries of one webhook.
func (s *Store) ClaimJobs(ctx context.Context, webhookID string, limit int, now, leaseUntil time.Time) ([]*herald.Job, time.Time, error) {
	rows, err := s.pool.Query(ctx, claimQuery, webhookID, millis(now), limit, millis(leaseUntil))
	if err != nil {
		return nil, time.Time{}, err
	}
	jobs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*herald.Job, error) {
		j := &herald.Job{WebhookID: webhookID}
		return j, row.Scan(&j.DeliveryID, &j.TenantID, &j.EventID, &j.Attempts, &j.Payload)
	})
	if err != nil {
		return nil, time.Time{}, err
	}
	var next *int64
	err = s.pool.QueryRow(ctx, `SELECT min(next_attempt_at) FROM deliveries
		WHERE webhook_id = $1 AND status = 'pending' AND leased_until <= $2`, webhookID, millis(now)).Scan(&next)
	if err != nil || next == nil {
		return jobs, time.Time{}, err
	}
	return jobs, fromMillis(*next), nil
}

// ReleaseJobs ends the leases of the given deliveries.
func (s *Store) ReleaseJobs(ctx context.Context, deliveryIDs []string) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	// Announce them, as a publish does: another process may be the one
	// to send them, and it should not wait for its next poll.
	_, err := s.pool.Exec(ctx, `WITH released AS (
			UPDATE deliveries SET leased_until = 0 WHERE id = ANY($1) RETURNING webhook_id)
		SELECT pg_notify($2, string_agg(DISTINCT webhook_id, ',')) FROM released HAVING count(*) > 0`,
		deliveryIDs, notifyChannel)
	return err
}

// ExtendLeases moves the leases still running at now to until.
func (s *Store) ExtendLeases(ctx context.Context, deliveryIDs []string, now, until time.Time) error {
	if len(deliveryIDs) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, `UPDATE deliveries SET leased_until = $1 WHERE id = ANY($2) AND leased_until > $3`,
		millis(until), deliveryIDs, millis(now))
	return err
}

// ResetLeases ends every lease.
func (s *Store) ResetLeases(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, `UPDATE deliveries SET leased_until = 0 WHERE status = 'pending' AND leased_until > 0`)
	return err
}

// RecordAttempts records outcomes in one transaction, sent as one batch:
// per attempt an UPDATE and an INSERT, and per webhook one counter UPDATE.
func (s *Store) RecordAttempts(ctx context.Context, results []herald.AttemptResult) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		batch := &pgx.Batch{}
		for _, r := range results {
			a := r.Attempt
			// The attempt number comes from the row, so a duplicate send
			// (a lease that ran out) still logs under its own number.
			batch.Queue(`WITH d AS (
					UPDATE deliveries SET status = CASE WHEN status = 'pending' THEN $1 ELSE status END,
						attempts = attempts + 1, next_attempt_at = $2, leased_until = 0,
						last_status_code = $3, last_error = $4, updated_at = $5
					WHERE id = $6 RETURNING id, attempts)
				INSERT INTO attempts (delivery_id, attempt, attempted_at, status_code, latency_ms, error, response_body)
				SELECT id, attempts, $5, $3, $7, $4, $8 FROM d ON CONFLICT DO NOTHING`,
				string(r.Status), millis(r.NextAttemptAt), a.StatusCode, a.Error, millis(a.AttemptedAt),
				r.Job.DeliveryID, a.Latency.Milliseconds(), a.ResponseBody)
		}
		for id, o := range herald.SummarizeAttempts(results) {
			batch.Queue(webhookOutcomeSQL, o.OK, o.Failed, millis(o.LastAt), o.Recovered, o.Restarted(),
				millis(o.FailingFrom), o.Gone, millis(o.DisableCutoff()), o.DisableReason(), id)
		}
		return tx.SendBatch(ctx, batch).Close()
	})
}

// webhookOutcomeSQL applies a herald.WebhookOutcome to its webhook in one
// statement: counters, the run of failures, and auto-disable. SET
// expressions all read the row as it was, so the new failing_since is
// spelled out where the disable test needs it.
const webhookOutcomeSQL = `UPDATE webhooks SET
	success_count = success_count + $1, error_count = error_count + $2,
	last_used_at = greatest(last_used_at, $3),
	failing_since = ` + newFailingSince + `,
	active = CASE WHEN ` + disables + ` THEN false ELSE active END,
	disabled_reason = CASE WHEN ` + disables + ` THEN $9 ELSE disabled_reason END,
	disabled_at = CASE WHEN ` + disables + ` THEN $3 ELSE disabled_at END
	WHERE id = $10`

const (
	newFailingSince = `(CASE WHEN $4 THEN 0 WHEN $5 OR failing_since = 0 THEN $6::bigint ELSE failing_since END)`
	disables        = `(active AND ($7 OR ($8::bigint > 0 AND ` + newFailingSince + ` BETWEEN 1 AND $8::bigint)))`
)

const deliveryColumns = `d.id, d.tenant_id, d.event_id, e.type, d.webhook_id, d.status, d.attempts,
	d.next_attempt_at, d.last_status_code, d.last_error, d.created_at, d.updated_at`

func (s *Store) queryDeliveries(ctx context.Context, where string, args ...any) ([]*herald.Delivery, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deliveryColumns+` FROM deliveries d JOIN events e ON e.id = d.event_id `+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (*herald.Delivery, error) {
		var (
			d                          herald.Delivery
			status                     string
			next, createdAt, updatedAt int64
		)
		err := row.Scan(&d.ID, &d.TenantID, &d.EventID, &d.EventType, &d.WebhookID, &status, &d.Attempts,
			&next, &d.LastStatusCode, &d.LastError, &createdAt, &updatedAt)
		d.Status = herald.DeliveryStatus(status)
		if d.Status == herald.DeliveryPending {
			d.NextAttemptAt = fromMillis(next)
		}
		d.CreatedAt, d.UpdatedAt = fromMillis(createdAt), fromMillis(updatedAt)
		return &d, err
	})
}

// ListDeliveries returns a page of a webhook's deliveries with attempts.
func (s *Store) ListDeliveries(ctx context.Context, tenantID, webhookID string, f herald.DeliveryFilter) ([]*herald.Delivery, int, error) {
	if _, err := s.GetWebhook(ctx, tenantID, webhookID); err != nil {
		return nil, 0, err
	}
	var total int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM deliveries WHERE webhook_id = $1 AND ($2 = '' OR status = $2)`,
		webhookID, string(f.Status)).Scan(&total)
	if err != nil {
		return nil, 0, err
	}
	list, err := s.queryDeliveries(ctx, `WHERE d.webhook_id = $1 AND ($2 = '' OR d.status = $2)
		ORDER BY d.created_at DESC, d.id DESC LIMIT $3 OFFSET $4`, webhookID, string(f.Status), f.Limit, f.Offset)
	if err != nil {
		return nil, 0, err
	}
	return list, total, s.attachAttempts(ctx, list)
}

func (s *Store) attachAttempts(ctx context.Context, list []*herald.Delivery) error {
	if len(list) == 0 {
		return nil
	}
	byID := make(map[string]*herald.Delivery, len(list))
	ids := make([]string, len(list))
	for i, d := range list {
		byID[d.ID], ids[i] = d, d.ID
	}
	rows, err := s.pool.Query(ctx, `SELECT delivery_id, attempt, attempted_at, status_code, latency_ms,
		error, response_body FROM attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt`, ids)
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
	err := s.pool.QueryRow(ctx, `UPDATE deliveries SET status = CASE WHEN status = 'cancelled' THEN status ELSE 'pending' END,
		next_attempt_at = $1, updated_at = $1 WHERE id = $2 AND webhook_id = $3 AND tenant_id = $4 RETURNING status`,
		millis(now), deliveryID, webhookID, tenantID).Scan(&status)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, herald.NotFoundf("delivery %q not found for webhook %q", deliveryID, webhookID)
	case err != nil:
		return nil, err
	case status == string(herald.DeliveryCancelled):
		return nil, herald.Errorf(herald.CodeConflict, "delivery %q was cancelled with its webhook", deliveryID)
	}
	list, err := s.queryDeliveries(ctx, `WHERE d.id = $1`, deliveryID)
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
	tag, err := s.pool.Exec(ctx, `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, updated_at = $1
		WHERE webhook_id = $2 AND status = 'failed' AND created_at >= $3`, millis(now), webhookID, millis(since))
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
