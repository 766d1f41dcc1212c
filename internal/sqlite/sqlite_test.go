package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/internal/storetest"
)

func mustOpenStore(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) herald.Store {
		return mustOpenStore(t, filepath.Join(t.TempDir(), "herald.db"))
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "herald.db")
	ctx := context.Background()
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	w := &herald.Webhook{ID: "wh_1", TenantID: "acme", URL: "https://example.com", Events: []string{"*"},
		Secret: "webhook-secret-123", RetryPolicy: herald.DefaultRetryPolicy(), Active: true, MaxInFlight: 1}
	if err := s.CreateWebhook(ctx, w, 0); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Opening again re-runs the migrations, which must find nothing to do.
	s2 := mustOpenStore(t, path)
	if _, err := s2.GetWebhook(ctx, "acme", "wh_1"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
}
