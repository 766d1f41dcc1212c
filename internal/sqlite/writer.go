package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// maxBatchOps bounds how many writes share one transaction.
const maxBatchOps = 512

var errClosed = errors.New("sqlite: store is closed")

// writeOp is one unit of work for the group-commit writer. fn may run
// twice (see commitBatch), so it must reset any result it fills.
type writeOp struct {
	fn   func(*sql.Tx) error
	done chan error
}

// groupWriter runs the hot-path writes (publishes, claims, attempt
// records) of many concurrent callers in shared transactions: one commit,
// and so one fsync, for a whole batch. Nobody is answered before the
// commit that holds their write, so durability is what a transaction per
// call would give, at a fraction of the cost.
type groupWriter struct {
	db     *sql.DB
	ops    chan writeOp
	mu     sync.RWMutex // guards closed against sends on a closed ops
	closed bool
	done   chan struct{}
}

func newGroupWriter(db *sql.DB) *groupWriter {
	w := &groupWriter{db: db, ops: make(chan writeOp, maxBatchOps), done: make(chan struct{})}
	go w.loop()
	return w
}

// write runs fn in a transaction shared with other writers and returns
// once that transaction has committed or failed.
func (w *groupWriter) write(ctx context.Context, fn func(*sql.Tx) error) error {
	op := writeOp{fn: fn, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return errClosed
	}
	select {
	case w.ops <- op:
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	w.mu.RUnlock()
	// Wait for the outcome even if ctx ends: the write may already be
	// committed, and the caller must not be told otherwise.
	return <-op.done
}

func (w *groupWriter) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.ops)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *groupWriter) loop() {
	defer close(w.done)
	batch := make([]writeOp, 0, maxBatchOps)
	for op := range w.ops {
		batch = append(batch[:0], op)
	fill:
		for len(batch) < maxBatchOps {
			select {
			case op, ok := <-w.ops:
				if !ok {
					break fill
				}
				batch = append(batch, op)
			default:
				break fill
			}
		}
		err := w.commit(batch)
		if err != nil && len(batch) > 1 {
			// One bad write must not fail its neighbours: run each
			// alone so every caller gets its own outcome.
			for _, op := range batch {
				op.done <- w.commit([]writeOp{op})
			}
			continue
		}
		for _, op := range batch {
			op.done <- err
		}
	}
}

func (w *groupWriter) commit(batch []writeOp) error {
	tx, err := w.db.Begin()
	if err != nil {
		return interpretError(err)
	}
	for _, op := range batch {
		if err := op.fn(tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	return interpretError(tx.Commit())
}
