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
	fn   func(*batchTx) error
	done chan error
}

// groupWriter runs the hot-path writes (publishes, claims, attempt
// records) of many concurrent callers in shared transactions: one commit,
// and so one fsync, for a whole batch. Nobody is answered before the
// commit that holds their write, so durability is what a transaction per
// call would give, at a fraction of the cost.
type groupWriter struct {
	// conn is the writer's own connection, so statements prepared on it
	// stay valid in every transaction it begins.
	conn   *sql.Conn
	ops    chan writeOp
	mu     sync.RWMutex // guards closed against sends on a closed ops
	closed bool
	done   chan struct{}
	// stmts caches prepared statements; only the loop goroutine, which
	// runs every op, touches it. Parsing SQL per statement cost a third
	// of the hot path before it.
	stmts map[string]*sql.Stmt
	tx    *batchTx
}

func newGroupWriter(ctx context.Context, db *sql.DB) (*groupWriter, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	w := &groupWriter{conn: conn, ops: make(chan writeOp, maxBatchOps), done: make(chan struct{}), stmts: map[string]*sql.Stmt{}}
	w.tx = &batchTx{w: w}
	go w.loop()
	return w, nil
}

// write runs fn in a transaction shared with other writers and returns
// once that transaction has committed or failed.
func (w *groupWriter) write(ctx context.Context, fn func(*batchTx) error) error {
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
	defer func() {
		for _, st := range w.stmts {
			st.Close()
		}
		w.conn.Close()
	}()
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

// commit runs a batch in one transaction on the writer's connection. It
// drives BEGIN and COMMIT itself rather than through database/sql's Tx,
// which would re-prepare every cached statement in every transaction.
func (w *groupWriter) commit(batch []writeOp) error {
	ctx := context.Background()
	if _, err := w.conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return interpretError(err)
	}
	for _, op := range batch {
		if err := op.fn(w.tx); err != nil {
			w.conn.ExecContext(ctx, "ROLLBACK")
			return err
		}
	}
	if _, err := w.conn.ExecContext(ctx, "COMMIT"); err != nil {
		w.conn.ExecContext(ctx, "ROLLBACK")
		return interpretError(err)
	}
	return nil
}

// batchTx is what an op's fn writes through: the statements of the
// transaction in progress on the writer's connection.
type batchTx struct {
	w *groupWriter
}

// stmt returns query prepared once on the writer's connection.
func (tx *batchTx) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st, ok := tx.w.stmts[query]
	if !ok {
		var err error
		if st, err = tx.w.conn.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		tx.w.stmts[query] = st
	}
	return st, nil
}

// exec runs a fixed statement, prepared once.
func (tx *batchTx) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := tx.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs a fixed single-row query, prepared once.
func (tx *batchTx) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := tx.stmt(ctx, query)
	if err != nil {
		// The unprepared query fails the same way, through the Row.
		return tx.w.conn.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// query runs a fixed query, prepared once.
func (tx *batchTx) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := tx.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// execDynamic runs a statement whose text varies (an IN list), unprepared.
func (tx *batchTx) execDynamic(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return tx.w.conn.ExecContext(ctx, query, args...)
}
