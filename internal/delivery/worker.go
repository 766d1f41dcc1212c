package delivery

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/heraldhq/herald"
)

// work sends a webhook's queued jobs one at a time until the queue has
// been empty for workerIdleTimeout or the engine stops.
func (e *Engine) work(webhookID string, q *queue) {
	defer e.workers.Done()
	idle := time.NewTimer(workerIdleTimeout)
	defer idle.Stop()
	for {
		select {
		case <-e.stopping: // stop before taking more work
			e.retireNow(q)
			return
		default:
		}
		select {
		case job := <-q.jobs:
			if e.deliver(q, job) {
				return
			}
			idle.Reset(workerIdleTimeout)
		case <-idle.C:
			if e.retire(q) {
				return
			}
			idle.Reset(workerIdleTimeout)
		case <-e.stopping:
			e.retireNow(q)
			return
		}
	}
}

// retire ends an idle worker unless work arrived meanwhile.
func (e *Engine) retire(q *queue) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(q.jobs) > 0 {
		return false
	}
	q.workers--
	return true
}

func (e *Engine) retireNow(q *queue) {
	e.mu.Lock()
	q.workers--
	e.mu.Unlock()
}

// deliver makes one attempt of job and hands the result to the recorder.
// It reports whether the calling worker must retire.
func (e *Engine) deliver(q *queue, job *herald.Job) (retire bool) {
	defer e.release(q, job)
	hook, err := e.hooks.get(e.sendCtx, job.TenantID, job.WebhookID)
	if herald.ErrorCodeOf(err) == herald.CodeNotFound {
		return // deleted: its deliveries are cancelled
	}
	if err != nil {
		e.cfg.Logger.Warn("cannot load webhook; the delivery waits for its lease", "webhook_id", job.WebhookID, "err", err)
		return
	}
	e.mu.Lock()
	q.maxInFlight = hook.MaxInFlight
	q.maxWorkers = e.share(job.WebhookID, hook.MaxInFlight)
	if q.workers > q.maxWorkers {
		// This process's share shrank (a webhook update, or another
		// process joined): this worker retires after this job.
		q.workers--
		retire = true
	}
	e.addWorkers(job.WebhookID, q)
	var handBack []string
	if q.maxWorkers == 0 {
		// Another process sends to this webhook: hand back this job
		// and everything queued behind it.
		handBack = append(handBack, job.DeliveryID)
		for len(q.jobs) > 0 {
			j := <-q.jobs
			delete(q.held, j.DeliveryID)
			handBack = append(handBack, j.DeliveryID)
		}
	}
	e.mu.Unlock()
	if len(handBack) > 0 {
		if err := e.cfg.Store.ReleaseJobs(e.sendCtx, handBack); err != nil {
			e.cfg.Logger.Warn("cannot hand back deliveries; they wait for their lease", "deliveries", len(handBack), "err", err)
		}
		return retire
	}
	if !hook.Active {
		// Paused: hand it back; reactivation wakes the claimer.
		if err := e.cfg.Store.ReleaseJobs(e.sendCtx, []string{job.DeliveryID}); err != nil {
			e.cfg.Logger.Warn("cannot release a paused delivery", "delivery_id", job.DeliveryID, "err", err)
		}
		return
	}
	now := e.cfg.Now()
	e.cfg.Observer.SendStarted()
	res := e.cfg.Sender.Send(e.sendCtx, hook, Message{ID: job.EventID, Body: job.Payload}, now)
	e.cfg.Observer.SendDone(res.StatusCode, res.OK(), res.Latency)
	status, next := outcome(hook.RetryPolicy, job.Attempts+1, res, now, e.cfg.Jitter())
	result := herald.AttemptResult{
		Job: job,
		Attempt: herald.Attempt{
			AttemptedAt:  now,
			StatusCode:   res.StatusCode,
			Latency:      res.Latency,
			Error:        res.ErrorText(),
			ResponseBody: string(res.ResponseBody),
		},
		Status:        status,
		NextAttemptAt: next,
		DisableAfter:  max(e.cfg.DisableAfter, 0),
	}
	// The worker moves on without waiting for the commit: the recorder
	// batches results, and until its commit the delivery's lease keeps
	// it from being claimed again.
	e.results <- result
	return retire
}

// maxRecordBatch bounds the attempt results recorded in one store call.
const maxRecordBatch = 1024

// recordLoop records attempt results in batches until Stop closes
// e.results, and schedules the retries they call for.
func (e *Engine) recordLoop() {
	defer close(e.recorded)
	batch := make([]herald.AttemptResult, 0, maxRecordBatch)
	for r := range e.results {
		batch = append(batch[:0], r)
	fill:
		for len(batch) < maxRecordBatch {
			select {
			case r, ok := <-e.results:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		// Recorded even while stopping: the attempts happened.
		if err := e.cfg.Store.RecordAttempts(context.Background(), batch); err != nil {
			e.cfg.Logger.Error("cannot record attempts; their deliveries are retried after their leases",
				"attempts", len(batch), "err", err)
			continue
		}
		debug := e.cfg.Logger.Enabled(context.Background(), slog.LevelDebug)
		for _, r := range batch {
			if debug {
				e.cfg.Logger.Debug("attempt", "webhook_id", r.Job.WebhookID, "delivery_id", r.Job.DeliveryID,
					"event_id", r.Job.EventID, "attempt", r.Job.Attempts+1, "status_code", r.Attempt.StatusCode,
					"latency", r.Attempt.Latency, "error", r.Attempt.Error, "delivery_status", r.Status)
			}
			if r.Attempt.StatusCode == http.StatusGone {
				// The store has just deactivated the webhook: its
				// queued deliveries go back at once, not after the
				// cached configuration expires.
				e.hooks.forget(r.Job.WebhookID)
				e.cfg.Logger.Warn("endpoint answered 410 Gone: webhook deactivated; reactivate it to resume",
					"webhook_id", r.Job.WebhookID)
			}
			if r.Status == herald.DeliveryPending {
				e.dueAt(r.Job.WebhookID, r.NextAttemptAt)
			} else {
				e.cfg.Observer.Completed(string(r.Status))
			}
		}
	}
}

// release forgets a job that is done with, and asks for more work when
// the queue runs low and the store has some.
func (e *Engine) release(q *queue, job *herald.Job) {
	e.mu.Lock()
	delete(q.held, job.DeliveryID)
	low := len(q.held) <= e.cfg.QueueSize/2 && !q.nextDue.IsZero() && !q.nextDue.After(e.cfg.Now())
	e.mu.Unlock()
	if low {
		e.signal()
	}
}

// dueAt notes that a webhook has work due at t.
func (e *Engine) dueAt(webhookID string, t time.Time) {
	e.mu.Lock()
	q := e.queueFor(webhookID)
	earlier := q.nextDue.IsZero() || t.Before(q.nextDue)
	if earlier {
		q.nextDue = t
	}
	e.mu.Unlock()
	if earlier {
		e.signal() // the claim loop may need an earlier timer
	}
}
