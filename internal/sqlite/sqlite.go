// Package sqlite implements herald.Store on an embedded SQLite file through
// modernc.org/sqlite, a pure-Go driver, so the herald binary stays static.
//
// One connection writes (SQLite admits one writer at a time; queueing in Go
// is cheaper than SQLITE_BUSY retries) and a pool reads, in WAL mode so
// readers never block the writer. synchronous=FULL makes every commit
// survive power loss, which is what a 202 promises.
//
// It imports the herald domain, database/sql, the driver and goose.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/heraldhq/herald"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a herald.Store on one SQLite file.
type Store struct {
	writer *sql.DB
	reader *sql.DB
	group  *groupWriter
}

var _ herald.Store = (*Store)(nil)

// Open opens (creating if needed) the SQLite file at path and applies any
// pending migrations.
func Open(ctx context.Context, path string) (*Store, error) {
	const pragmas = "_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(10000)&_pragma=foreign_keys(ON)"
	writer, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// Two writer connections: one the group writer keeps for itself, one
	// for the rare writes outside it (webhook changes, idempotency keys).
	// SQLite still admits one writer at a time; busy_timeout queues them.
	writer.SetMaxOpenConns(2)
	writer.SetConnMaxIdleTime(0)
	reader, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	reader.SetMaxOpenConns(max(4, runtime.GOMAXPROCS(0)))
	s := &Store{writer: writer, reader: reader}
	if err := s.migrate(ctx); err != nil {
		writer.Close()
		reader.Close()
		return nil, fmt.Errorf("migrate %s: %w", path, err)
	}
	if s.group, err = newGroupWriter(ctx, writer); err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	return s, nil
}

// Migrate applies pending migrations to the SQLite file at path.
func (s *Store) migrate(ctx context.Context) error {
	provider, err := goose.NewProvider(goose.DialectSQLite3, s.writer, mustSub(migrations, "migrations"))
	if err != nil {
		return err
	}
	_, err = provider.Up(ctx)
	return err
}

// Ping reports whether the file can be read and written.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.reader.PingContext(ctx); err != nil {
		return err
	}
	return s.writer.PingContext(ctx)
}

// Close closes both connection pools.
func (s *Store) Close() error {
	s.group.close()
	return errors.Join(s.reader.Close(), s.writer.Close())
}

// inTx runs fn in a write transaction.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return interpretError(err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return interpretError(tx.Commit())
}

// interpretError turns driver errors into herald errors by SQLite's
// extended result code, never by message text.
func interpretError(err error) error {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return &herald.Error{Code: herald.CodeConflict, Message: "already exists"}
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return &herald.Error{Code: herald.CodeUnavailable, Message: "database is busy, try again"}
		}
	}
	return err
}

// millis stores a time as Unix milliseconds; the zero time is 0.
func millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMillis is the inverse of millis.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
