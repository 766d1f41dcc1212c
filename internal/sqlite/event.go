package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald"
)

// newDeliveryID returns a time-ordered id, so deliveries sort by creation.
func newDeliveryID() string {
	return "dlv_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
}

// subscriber is an active webhook as publishing sees it.
type subscriber struct {
	id     string
	events []string
}

// PublishEvents stores events and their deliveries in the group writer's
// shared transaction.
func (s *Store) PublishEvents(ctx context.Context, in []herald.PublishInput, leaseUntil time.Time) ([]herald.Published, error) {
	var out []herald.Published
	err := s.group.write(ctx, func(tx *batchTx) error {
		out = make([]herald.Published, 0, len(in))
		subscribers := map[string][]subscriber{} // by tenant, read once per batch
		for _, p := range in {
			pub, err := s.publishOne(ctx, tx, p, subscribers, leaseUntil)
			if err != nil {
				return err
			}
			out = append(out, pub)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Store) publishOne(ctx context.Context, tx *batchTx, p herald.PublishInput, subscribers map[string][]subscriber, leaseUntil time.Time) (herald.Published, error) {
	ev := p.Event
	if p.IdempotencyKey != "" {
		prior, count, err := s.eventByKey(ctx, tx, ev.TenantID, p.IdempotencyKey)
		switch {
		case err != nil:
			return herald.Published{}, err
		case prior != nil && ev.CreatedAt.Sub(prior.CreatedAt) < herald.IdempotencyTTL:
			return herald.Published{Event: prior, DeliveryCount: count, Repeat: true}, nil
		case prior != nil:
			// Expired: the key is free for this event.
			if _, err := tx.exec(ctx, `UPDATE events SET idempotency_key = NULL WHERE id = ?`, prior.ID); err != nil {
				return herald.Published{}, err
			}
		}
	}
	var key any
	if p.IdempotencyKey != "" {
		key = p.IdempotencyKey
	}
	now := millis(ev.CreatedAt)
	_, err := tx.exec(ctx, `INSERT INTO events (id, tenant_id, type, payload, idempotency_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, ev.ID, ev.TenantID, ev.Type, ev.Payload, key, now)
	if err != nil {
		return herald.Published{}, interpretError(err)
	}
	subs, ok := subscribers[ev.TenantID]
	if !ok {
		if subs, err = activeSubscribers(ctx, tx, ev.TenantID); err != nil {
			return herald.Published{}, err
		}
		subscribers[ev.TenantID] = subs
	}
	pub := herald.Published{Event: ev}
	for _, sub := range subs {
		if !matchesAny(sub.events, ev.Type) {
			continue
		}
		id := newDeliveryID()
		_, err := tx.exec(ctx, `INSERT INTO deliveries (id, tenant_id, event_id, webhook_id, status,
			next_attempt_at, leased_until, created_at, updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
			id, ev.TenantID, ev.ID, sub.id, now, millis(leaseUntil), now, now)
		if err != nil {
			return herald.Published{}, interpretError(err)
		}
		pub.Deliveries = append(pub.Deliveries, &herald.Job{
			DeliveryID: id, TenantID: ev.TenantID, WebhookID: sub.id, EventID: ev.ID, Payload: ev.Payload,
		})
	}
	pub.DeliveryCount = len(pub.Deliveries)
	return pub, nil
}

func matchesAny(patterns []string, eventType string) bool {
	for _, p := range patterns {
		if herald.MatchEvent(p, eventType) {
			return true
		}
	}
	return false
}

func activeSubscribers(ctx context.Context, tx *batchTx, tenantID string) ([]subscriber, error) {
	rows, err := tx.query(ctx, `SELECT id, events FROM webhooks WHERE tenant_id = ? AND active = 1`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var subs []subscriber
	for rows.Next() {
		var (
			sub    subscriber
			events string
		)
		if err := rows.Scan(&sub.id, &events); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(events), &sub.events); err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, rows.Err()
}

func (s *Store) eventByKey(ctx context.Context, tx *batchTx, tenantID, key string) (*herald.Event, int, error) {
	var (
		ev        herald.Event
		createdAt int64
		count     int
	)
	err := tx.queryRow(ctx, `SELECT id, tenant_id, type, payload, created_at,
		(SELECT count(*) FROM deliveries WHERE event_id = events.id)
		FROM events WHERE tenant_id = ? AND idempotency_key = ?`, tenantID, key).
		Scan(&ev.ID, &ev.TenantID, &ev.Type, &ev.Payload, &createdAt, &count)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	ev.CreatedAt = fromMillis(createdAt)
	return &ev, count, nil
}

// GetEvent returns an event and the state of its deliveries.
func (s *Store) GetEvent(ctx context.Context, tenantID, id string) (*herald.Event, []*herald.Delivery, error) {
	var (
		ev        herald.Event
		createdAt int64
	)
	err := s.reader.QueryRowContext(ctx, `SELECT id, tenant_id, type, payload, created_at FROM events
		WHERE tenant_id = ? AND id = ?`, tenantID, id).Scan(&ev.ID, &ev.TenantID, &ev.Type, &ev.Payload, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, herald.NotFoundf("event %q not found", id)
	}
	if err != nil {
		return nil, nil, err
	}
	ev.CreatedAt = fromMillis(createdAt)
	deliveries, err := s.queryDeliveries(ctx, `WHERE d.event_id = ? ORDER BY d.id`, id)
	if err != nil {
		return nil, nil, err
	}
	return &ev, deliveries, nil
}
