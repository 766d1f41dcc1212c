package retention_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/retention"
	"github.com/heraldhq/herald/internal/sqlite"
)

func TestCheck(t *testing.T) {
	for d, ok := range map[time.Duration]bool{0: true, 24 * time.Hour: true, 720 * time.Hour: true, time.Hour: false, -time.Hour: false} {
		if err := retention.Check(d); (err == nil) != ok {
			t.Errorf("Check(%v) = %v", d, err)
		}
	}
}

// TestOncePurgesInBatches: a pass deletes every old event, batch after
// batch, and keeps the recent ones; with no retention it keeps them all.
func TestOncePurgesInBatches(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	publish := func(id string, at time.Time) {
		_, err := s.PublishEvents(ctx, []herald.PublishInput{{Event: &herald.Event{
			ID: id, TenantID: "acme", Type: "batch.failed", Payload: []byte(`{}`), CreatedAt: at}}}, at)
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 25 {
		publish(fmt.Sprintf("evt_old_%02d", i), now.Add(-40*24*time.Hour))
	}
	publish("evt_recent", now.Add(-time.Hour))
	cfg := retention.Config{Store: s, BatchSize: 10, Now: func() time.Time { return now }}

	if n, err := retention.Once(ctx, cfg); err != nil || n != 0 {
		t.Fatalf("pass with no retention = %d, %v; want nothing deleted", n, err)
	}
	cfg.Retention = retention.DefaultRetention
	if n, err := retention.Once(ctx, cfg); err != nil || n != 25 {
		t.Fatalf("pass = %d, %v; want the 25 old events in three batches", n, err)
	}
	if _, _, err := s.GetEvent(ctx, "acme", "evt_old_00"); herald.ErrorCodeOf(err) != herald.CodeNotFound {
		t.Fatalf("old event still there: %v", err)
	}
	if _, _, err := s.GetEvent(ctx, "acme", "evt_recent"); err != nil {
		t.Fatalf("recent event purged: %v", err)
	}
}

// TestRunStopsWithItsContext: Run makes its first pass at once and
// returns when its context ends.
func TestRunStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	old := time.Now().Add(-60 * 24 * time.Hour)
	if _, err := s.PublishEvents(ctx, []herald.PublishInput{{Event: &herald.Event{
		ID: "evt_old", TenantID: "acme", Type: "batch.failed", Payload: []byte(`{}`), CreatedAt: old}}}, old); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		retention.Run(ctx, retention.Config{Store: s, Retention: retention.DefaultRetention})
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, _, err := s.GetEvent(ctx, "acme", "evt_old"); herald.ErrorCodeOf(err) == herald.CodeNotFound {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Run's first pass did not purge the old event")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}
