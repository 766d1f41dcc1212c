package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/heraldtest"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) herald.Store {
		s, err := postgres.Open(context.Background(), heraldtest.PostgresURL(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestPurgeRunsOnOneProcessAtATime: while another session holds the purge
// lock, Purge deletes nothing and returns at once; then it purges.
func TestPurgeRunsOnOneProcessAtATime(t *testing.T) {
	ctx := context.Background()
	url := heraldtest.PostgresURL(t)
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err = s.PublishEvents(ctx, []herald.PublishInput{{Event: &herald.Event{
		ID: "evt_old", TenantID: "acme", Type: "batch.failed", Payload: []byte(`{}`), CreatedAt: old}}}, old)
	if err != nil {
		t.Fatal(err)
	}
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	const lock = `hashtextextended('herald.purge.' || current_schema(), 0)`
	if _, err := other.Exec(ctx, `SELECT pg_advisory_lock(`+lock+`)`); err != nil {
		t.Fatal(err)
	}
	now := old.Add(90 * 24 * time.Hour)
	if n, err := s.Purge(ctx, now, now, 100); err != nil || n != 0 {
		t.Fatalf("Purge while another process purges = %d, %v; want 0", n, err)
	}
	if _, _, err := s.GetEvent(ctx, "acme", "evt_old"); err != nil {
		t.Fatalf("the event went while the lock was held: %v", err)
	}
	if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock(`+lock+`)`); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(ctx, now, now, 100); err != nil || n != 1 {
		t.Fatalf("Purge after the lock is free = %d, %v; want 1", n, err)
	}
}
