package delivery

import (
	"context"
	"time"
)

// claimLoop claims due deliveries into queues with room: when signalled,
// when a known due time arrives, and every PollInterval for work no
// signal announced.
func (e *Engine) claimLoop() {
	defer close(e.loopDone)
	timer := time.NewTimer(0)
	defer timer.Stop()
	lastFull := time.Time{}
	for {
		select {
		case <-e.stopping:
			return
		case <-e.wake:
		case <-timer.C:
		}
		now := e.cfg.Now()
		full := now.Sub(lastFull) >= e.cfg.PollInterval
		if full {
			lastFull = now
		}
		e.claimRound(e.sendCtx, now, full)
		timer.Reset(e.nextWait(lastFull))
	}
}

// claimRound claims for every webhook whose queue is at most half full
// and that has due work (or, in a full round, every active webhook).
func (e *Engine) claimRound(ctx context.Context, now time.Time, full bool) {
	var ids []string
	if full {
		var err error
		if ids, err = e.cfg.Store.ActiveWebhookIDs(ctx); err != nil {
			e.cfg.Logger.Warn("cannot list active webhooks", "err", err)
			return
		}
	} else {
		e.mu.Lock()
		for id, q := range e.queues {
			if !q.nextDue.IsZero() && !q.nextDue.After(now) {
				ids = append(ids, id)
			}
		}
		e.mu.Unlock()
	}
	for _, id := range ids {
		e.claim(ctx, id, now)
	}
}

// claim fills one webhook's queue from the store if it has room.
func (e *Engine) claim(ctx context.Context, webhookID string, now time.Time) {
	e.mu.Lock()
	q := e.queueFor(webhookID)
	tenant := q.tenant
	e.mu.Unlock()
	if tenant != "" {
		// The cap may have changed elsewhere; the cache bounds the reads.
		hook, err := e.hooks.get(ctx, tenant, webhookID)
		if err == nil && !hook.Active {
			return // paused: reactivation wakes the claimer
		}
		if err == nil {
			e.mu.Lock()
			q.maxInFlight = hook.MaxInFlight
			e.mu.Unlock()
		}
	}
	e.mu.Lock()
	if q.maxInFlight > 0 && e.share(webhookID, q.maxInFlight) == 0 {
		e.mu.Unlock()
		return // another process sends to this webhook
	}
	room := e.cfg.QueueSize - len(q.held)
	if room < e.cfg.QueueSize/2 {
		e.mu.Unlock()
		return // a claim follows when the queue drains
	}
	if !q.nextDue.After(now) {
		q.nextDue = time.Time{} // this claim takes what is due; a later due time stays
	}
	e.mu.Unlock()

	jobs, nextDue, err := e.cfg.Store.ClaimJobs(ctx, webhookID, room, now, now.Add(e.cfg.Lease))
	if err != nil {
		e.cfg.Logger.Warn("cannot claim deliveries", "webhook_id", webhookID, "err", err)
		e.dueAt(webhookID, now.Add(time.Second))
		return
	}
	// Publishes may have filled the queue meanwhile: what no longer fits
	// goes back to the store rather than sitting out its lease.
	var overflow []string
	for _, job := range jobs {
		if !e.enqueue(job) {
			overflow = append(overflow, job.DeliveryID)
		}
	}
	if len(overflow) > 0 {
		if err := e.cfg.Store.ReleaseJobs(ctx, overflow); err != nil {
			e.cfg.Logger.Warn("cannot release claimed deliveries; they wait for their lease", "err", err)
		}
	}
	switch {
	case len(jobs) == room:
		e.dueAt(webhookID, now) // there may be more
	case !nextDue.IsZero():
		e.dueAt(webhookID, nextDue)
	}
}

// nextWait is how long the claim loop may sleep: until the earliest known
// due time, or the next full round.
func (e *Engine) nextWait(lastFull time.Time) time.Duration {
	next := lastFull.Add(e.cfg.PollInterval)
	e.mu.Lock()
	for _, q := range e.queues {
		if !q.nextDue.IsZero() && q.nextDue.Before(next) && len(q.held) <= e.cfg.QueueSize/2 {
			next = q.nextDue
		}
	}
	e.mu.Unlock()
	return max(next.Sub(e.cfg.Now()), time.Millisecond)
}
