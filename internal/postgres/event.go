package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald"
)

func newDeliveryID() string {
	return "dlv_" + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
}

type subscriber struct {
	id     string
	events []string
}

// PublishEvents stores events and their deliveries in one transaction and
// notifies every listening process of the webhooks that got work.
func (s *Store) PublishEvents(ctx context.Context, in []herald.PublishInput, leaseUntil time.Time) ([]herald.Published, error) {
	var out []herald.Published
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		out = make([]herald.Published, 0, len(in))
		subscribers := map[string][]subscriber{}
		var deliveries [][]any
		for _, p := range in {
			pub, err := publishOne(ctx, tx, p, subscribers, leaseUntil)
			if err != nil {
				return err
			}
			for _, j := range pub.Deliveries {
				at := millis(p.Event.CreatedAt)
				deliveries = append(deliveries, []any{j.DeliveryID, j.TenantID, j.EventID, j.WebhookID,
					"pending", at, millis(leaseUntil), at, at})
			}
			out = append(out, pub)
		}
		// COPY writes a fan-out's rows in one round trip.
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"deliveries"},
			[]string{"id", "tenant_id", "event_id", "webhook_id", "status", "next_attempt_at", "leased_until", "created_at", "updated_at"},
			pgx.CopyFromRows(deliveries))
		if err != nil {
			return err
		}
		return notify(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// notify sends the ids of the webhooks that got deliveries; PostgreSQL
// delivers it at commit, and only then.
func notify(ctx context.Context, tx pgx.Tx, out []herald.Published) error {
	var ids []string
	for _, p := range out {
		for _, j := range p.Deliveries {
			ids = append(ids, j.WebhookID)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `SELECT pg_notify($1, $2)`, notifyChannel, strings.Join(ids, ","))
	return err
}

func publishOne(ctx context.Context, tx pgx.Tx, p herald.PublishInput, subscribers map[string][]subscriber, leaseUntil time.Time) (herald.Published, error) {
	ev := p.Event
	var key any
	if p.IdempotencyKey != "" {
		key = p.IdempotencyKey
		prior, count, err := eventByKey(ctx, tx, ev.TenantID, p.IdempotencyKey)
		switch {
		case err != nil:
			return herald.Published{}, err
		case prior != nil && ev.CreatedAt.Sub(prior.CreatedAt) < herald.IdempotencyTTL:
			return herald.Published{Event: prior, DeliveryCount: count, Repeat: true}, nil
		case prior != nil:
			if _, err := tx.Exec(ctx, `UPDATE events SET idempotency_key = NULL WHERE id = $1`, prior.ID); err != nil {
				return herald.Published{}, err
			}
		}
	}
	_, err := tx.Exec(ctx, `INSERT INTO events (id, tenant_id, type, payload, idempotency_key, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, ev.ID, ev.TenantID, ev.Type, ev.Payload, key, millis(ev.CreatedAt))
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
		if slices.ContainsFunc(sub.events, func(pattern string) bool { return herald.MatchEvent(pattern, ev.Type) }) {
			pub.Deliveries = append(pub.Deliveries, &herald.Job{
				DeliveryID: newDeliveryID(), TenantID: ev.TenantID, WebhookID: sub.id, EventID: ev.ID, Payload: ev.Payload,
			})
		}
	}
	pub.DeliveryCount = len(pub.Deliveries)
	return pub, nil
}

func activeSubscribers(ctx context.Context, tx pgx.Tx, tenantID string) ([]subscriber, error) {
	rows, err := tx.Query(ctx, `SELECT id, events FROM webhooks WHERE tenant_id = $1 AND active`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var subs []subscriber
	for rows.Next() {
		var (
			sub    subscriber
			events []byte
		)
		if err := rows.Scan(&sub.id, &events); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(events, &sub.events); err != nil {
			return nil, err
		}
		subs = append(subs, sub)
	}
	return subs, rows.Err()
}

func eventByKey(ctx context.Context, tx pgx.Tx, tenantID, key string) (*herald.Event, int, error) {
	var (
		ev        herald.Event
		createdAt int64
		count     int
	)
	err := tx.QueryRow(ctx, `SELECT id, tenant_id, type, payload, created_at,
		(SELECT count(*) FROM deliveries WHERE event_id = events.id)
		FROM events WHERE tenant_id = $1 AND idempotency_key = $2 FOR UPDATE`, tenantID, key).
		Scan(&ev.ID, &ev.TenantID, &ev.Type, &ev.Payload, &createdAt, &count)
	if errors.Is(err, pgx.ErrNoRows) {
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
	err := s.pool.QueryRow(ctx, `SELECT id, tenant_id, type, payload, created_at FROM events
		WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&ev.ID, &ev.TenantID, &ev.Type, &ev.Payload, &createdAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, herald.NotFoundf("event %q not found", id)
	}
	if err != nil {
		return nil, nil, err
	}
	ev.CreatedAt = fromMillis(createdAt)
	deliveries, err := s.queryDeliveries(ctx, `WHERE d.event_id = $1 ORDER BY d.id`, id)
	if err != nil {
		return nil, nil, err
	}
	return &ev, deliveries, nil
}
