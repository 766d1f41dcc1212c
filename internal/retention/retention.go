// Package retention deletes what herald no longer needs: events older
// than the retention period whose deliveries are all final (with those
// deliveries and their attempts), and idempotency keys past
// herald.IdempotencyTTL. A pending delivery is never deleted, however old.
//
// It imports the herald domain only.
package retention

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/heraldhq/herald"
)

// Defaults.
const (
	DefaultRetention = 30 * 24 * time.Hour
	DefaultInterval  = time.Hour
	DefaultBatchSize = 1000
	// MinRetention keeps events at least as long as their idempotency
	// keys are honoured.
	MinRetention = herald.IdempotencyTTL
)

// Config configures a Purger.
type Config struct {
	// Store is purged. Required.
	Store herald.Store
	// Retention is how long events are kept; zero keeps them forever
	// (idempotency keys still expire).
	Retention time.Duration
	// Interval is the time between passes. Defaults to DefaultInterval.
	Interval time.Duration
	// BatchSize bounds the rows one store call deletes, so a pass never
	// holds the database for long. Defaults to DefaultBatchSize.
	BatchSize int
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// Logger hears of each pass. Defaults to slog.Default().
	Logger *slog.Logger
}

// Check reports a retention herald refuses.
func Check(retention time.Duration) error {
	if retention != 0 && retention < MinRetention {
		return errors.New("must be 0 (keep events forever) or at least 24h, so events outlive their idempotency keys")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.BatchSize <= 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Run purges at once and then every Interval until ctx ends. Every
// process may run it: the store lets one purge at a time.
func Run(ctx context.Context, cfg Config) {
	cfg = cfg.withDefaults()
	t := time.NewTicker(cfg.Interval)
	defer t.Stop()
	for {
		if n, err := Once(ctx, cfg); err != nil && ctx.Err() == nil {
			cfg.Logger.Warn("retention pass failed; the next pass tries again", "err", err)
		} else if n > 0 {
			cfg.Logger.Info("retention pass deleted old events and idempotency keys", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Once runs one pass: it purges in batches until a batch comes back
// short, and returns the rows the batches counted.
func Once(ctx context.Context, cfg Config) (int, error) {
	cfg = cfg.withDefaults()
	now := cfg.Now()
	var eventsBefore time.Time // zero: nothing is old enough
	if cfg.Retention > 0 {
		eventsBefore = now.Add(-cfg.Retention)
	}
	keysBefore := now.Add(-herald.IdempotencyTTL)
	total := 0
	for {
		n, err := cfg.Store.Purge(ctx, eventsBefore, keysBefore, cfg.BatchSize)
		total += n
		if err != nil || n < cfg.BatchSize {
			return total, err
		}
	}
}
