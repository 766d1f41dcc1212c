package postgres

import (
	"context"
	"time"
)

// ProcessTTL is how long a process counts as alive after its last
// heartbeat.
const ProcessTTL = 10 * time.Second

// Heartbeat records that process id is alive at now, forgets processes
// silent for long, and returns this process's rank among the live ones
// (by id) and how many they are, this one included.
func (s *Store) Heartbeat(ctx context.Context, id string, now time.Time) (rank, count int, err error) {
	_, err = s.pool.Exec(ctx, `INSERT INTO processes (id, seen_at) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`, id, millis(now))
	if err != nil {
		return 0, 0, err
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM processes WHERE seen_at < $1`, millis(now.Add(-6*ProcessTTL))); err != nil {
		return 0, 0, err
	}
	err = s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE id < $2), count(*) FROM processes WHERE seen_at >= $1`,
		millis(now.Add(-ProcessTTL)), id).Scan(&rank, &count)
	return rank, max(count, 1), err
}

// Leave removes process id at once, so the others take up its share of
// each webhook's sends without waiting for ProcessTTL.
func (s *Store) Leave(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM processes WHERE id = $1`, id)
	return err
}
