package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// testPurge: old events whose deliveries are all final go, with their
// deliveries and attempts; an old event with a pending delivery, and
// every newer event, stay; expired idempotency keys go; limit bounds each
// call.
func testPurge(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	day := 24 * time.Hour
	done := publish(t, s, "acme", "batch.failed", "", t0)
	record(t, s, done.Deliveries[0], herald.DeliverySucceeded, 200, "", t0, time.Time{})
	failed := publish(t, s, "acme", "batch.failed", "", t0.Add(time.Second))
	record(t, s, failed.Deliveries[0], herald.DeliveryFailed, 500, "endpoint answered HTTP 500", t0, time.Time{})
	pending := publish(t, s, "acme", "batch.failed", "", t0.Add(2*time.Second))
	record(t, s, pending.Deliveries[0], herald.DeliveryPending, 500, "endpoint answered HTTP 500", t0, t0.Add(40*day))
	recent := publish(t, s, "acme", "batch.failed", "", t0.Add(10*day))
	record(t, s, recent.Deliveries[0], herald.DeliverySucceeded, 200, "", t0.Add(10*day), time.Time{})
	for i, key := range []string{"old-1", "old-2", "old-3", "new"} {
		at := t0
		if key == "new" {
			at = t0.Add(10 * day)
		}
		if _, err := s.BeginIdempotent(ctx, "acme", key, "fp", at); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}

	cutoff := t0.Add(5 * day)
	if n, err := s.Purge(ctx, cutoff, cutoff, 1); err != nil || n != 1 {
		t.Fatalf("Purge with limit 1 = %d, %v; want 1 and more to do", n, err)
	}
	if n, err := s.Purge(ctx, cutoff, cutoff, 100); err != nil || n != 2 {
		t.Fatalf("second Purge = %d, %v; want the last old event and the 2 old keys left", n, err)
	}
	if n, err := s.Purge(ctx, cutoff, cutoff, 100); err != nil || n != 0 {
		t.Fatalf("third Purge = %d, %v; want nothing left", n, err)
	}
	for _, p := range []herald.Published{done, failed} {
		if _, _, err := s.GetEvent(ctx, "acme", p.Event.ID); herald.ErrorCodeOf(err) != herald.CodeNotFound {
			t.Errorf("old finished event %s survived: %v", p.Event.ID, err)
		}
	}
	for _, p := range []herald.Published{pending, recent} {
		if _, ds, err := s.GetEvent(ctx, "acme", p.Event.ID); err != nil || len(ds) != 1 {
			t.Errorf("event %s (pending or recent) was purged: %v", p.Event.ID, err)
		}
	}
	list, total, err := s.ListDeliveries(ctx, "acme", w.ID, herald.DeliveryFilter{Limit: 10})
	if err != nil || total != 2 || len(list) != 2 || len(list[0].AttemptLog) != 1 {
		t.Fatalf("deliveries after purge: %d (total %d), %v; want the 2 kept, attempts intact", len(list), total, err)
	}
	// The recent key is still held.
	if rec, err := s.BeginIdempotent(ctx, "acme", "new", "fp", t0.Add(10*day)); rec == nil || err != nil {
		t.Fatalf("recent key was purged: %v, %v", rec, err)
	}
	// Counters are all-time: purging does not change them.
	if got, _ := s.GetWebhook(ctx, "acme", w.ID); got.SuccessCount != 2 || got.ErrorCount != 2 {
		t.Fatalf("counters after purge %d/%d, want 2/2", got.SuccessCount, got.ErrorCount)
	}
}

// testBacklog: pending deliveries of every tenant count; final ones do
// not; the oldest pending one's creation time is reported.
func testBacklog(t *testing.T, s herald.Store) {
	ctx := context.Background()
	if n, oldest, err := s.Backlog(ctx); err != nil || n != 0 || !oldest.IsZero() {
		t.Fatalf("empty Backlog = %d, %v, %v", n, oldest, err)
	}
	mustCreate(t, s, newWebhook("acme", 1))
	mustCreate(t, s, newWebhook("globex", 1))
	first := publish(t, s, "acme", "batch.failed", "", t0)
	publish(t, s, "globex", "batch.failed", "", t0.Add(time.Minute))
	publish(t, s, "acme", "batch.failed", "", t0.Add(2*time.Minute))
	record(t, s, first.Deliveries[0], herald.DeliverySucceeded, 200, "", t0, time.Time{})
	n, oldest, err := s.Backlog(ctx)
	if err != nil || n != 2 || !oldest.Equal(t0.Add(time.Minute)) {
		t.Fatalf("Backlog = %d, %v, %v; want 2, oldest %v", n, oldest, err, t0.Add(time.Minute))
	}
}
