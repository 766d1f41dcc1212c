// Package postgres implements herald.Store on PostgreSQL through pgx, so
// any number of herald processes can share one queue: claims take rows
// with FOR UPDATE SKIP LOCKED and lease them, and LISTEN/NOTIFY tells every
// process at once when new deliveries are committed.
//
// It imports the herald domain, pgx and goose.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/heraldhq/herald"
)

//go:embed migrations/*.sql
var migrations embed.FS

// notifyChannel carries the ids of webhooks with new deliveries.
const notifyChannel = "herald_deliveries"

// Store is a herald.Store on PostgreSQL.
type Store struct {
	pool *pgxpool.Pool
	// closed ends every Listen, whose held connection would otherwise
	// keep pool.Close waiting.
	closed    chan struct{}
	closeOnce sync.Once
}

var _ herald.Store = (*Store)(nil)

// IsURL reports whether a --db value names PostgreSQL.
func IsURL(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// Open connects to the database at url and applies pending migrations. A
// search_path parameter in url selects a schema, created if missing, so
// several heralds (or tests) can share one database.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	if schema := cfg.ConnConfig.RuntimeParams["search_path"]; schema != "" {
		if err := createSchema(ctx, cfg.ConnConfig.Copy(), schema); err != nil {
			return nil, err
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	s := &Store{pool: pool, closed: make(chan struct{})}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	return s, nil
}

func createSchema(ctx context.Context, cfg *pgx.ConnConfig, schema string) error {
	delete(cfg.RuntimeParams, "search_path")
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{schema}.Sanitize())
	if err != nil {
		return fmt.Errorf("postgres: create schema %q: %w", schema, err)
	}
	return nil
}

func (s *Store) migrate(ctx context.Context) error {
	db := stdlib.OpenDBFromPool(s.pool)
	defer db.Close()
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	provider, err := goose.NewProvider(goose.DialectPostgres, db, sub)
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.pool.Ping(ctx) }

// Close closes the pool.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.pool.Close()
	})
	return nil
}

// inTx runs fn in a transaction.
func (s *Store) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return interpretError(pgx.BeginFunc(ctx, s.pool, fn))
}

// interpretError turns driver errors into herald errors by SQLSTATE, never
// by message text.
func interpretError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505": // unique_violation
			return &herald.Error{Code: herald.CodeConflict, Message: "already exists"}
		case "40001", "40P01": // serialization_failure, deadlock_detected
			return &herald.Error{Code: herald.CodeUnavailable, Message: "database is busy, try again"}
		}
	}
	return err
}

func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Listen calls wake with the id of every webhook that gets new
// deliveries, from any process, until ctx ends. It reconnects after
// failures; a notification missed meanwhile is found by the engine's poll.
func (s *Store) Listen(ctx context.Context, wake func(webhookID string)) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	for ctx.Err() == nil {
		if err := s.listenOnce(ctx, wake); err != nil && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (s *Store) listenOnce(ctx context.Context, wake func(string)) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
		return err
	}
	for {
		n, err := conn.Conn().WaitForNotification(ctx)
		if err != nil {
			conn.Conn().Close(context.Background()) // not fit to go back to the pool
			return err
		}
		for _, id := range strings.Split(n.Payload, ",") {
			wake(id)
		}
	}
}
