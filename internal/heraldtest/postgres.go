package heraldtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/jackc/pgx/v5"
)

// UsePostgres reports whether HERALD_TEST_STORE=postgres asks for the
// API, engine and CLI tests to run on PostgreSQL instead of SQLite.
func UsePostgres() bool { return os.Getenv("HERALD_TEST_STORE") == "postgres" }

// DB returns a fresh database for one herald: a SQLite file in a temporary
// directory, or, with UsePostgres, a new schema of the PostgreSQL database.
func DB(t testing.TB) string {
	t.Helper()
	if UsePostgres() {
		return PostgresURL(t)
	}
	return filepath.Join(t.TempDir(), "herald.db")
}

// PostgresURL returns HERALD_TEST_POSTGRES_URL pointed at a fresh schema
// that is dropped when t ends, so tests can run in parallel. Without the
// variable the test skips on a developer's machine and fails in CI.
func PostgresURL(t testing.TB) string {
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
	conn, err := pgx.Connect(context.Background(), base)
	if err != nil {
		t.Fatalf("PostgreSQL at HERALD_TEST_POSTGRES_URL is unreachable: %v", err)
	}
	conn.Close(context.Background())
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
