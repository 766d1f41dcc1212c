package postgres_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/storetest"
)

// testURL returns a URL for a fresh schema of HERALD_TEST_POSTGRES_URL,
// dropped when t ends. Without the variable the test skips on a
// developer's machine and fails in CI.
func testURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("HERALD_TEST_POSTGRES_URL")
	if base == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("HERALD_TEST_POSTGRES_URL is not set; CI must run the PostgreSQL tests")
		}
		t.Skip("HERALD_TEST_POSTGRES_URL is not set")
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("HERALD_TEST_POSTGRES_URL: %v", err)
	}
	schema := fmt.Sprintf("herald_test_%d", rand.Uint64())
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	t.Cleanup(func() {
		conn, err := pgx.Connect(context.Background(), base)
		if err != nil {
			return
		}
		defer conn.Close(context.Background())
		conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
	})
	return u.String()
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) herald.Store {
		s, err := postgres.Open(context.Background(), testURL(t))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}
