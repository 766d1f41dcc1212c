package delivery

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/heraldhq/herald"
)

// Engine defaults.
const (
	DefaultLease        = 5 * time.Minute
	DefaultQueueSize    = 512
	DefaultPollInterval = 5 * time.Second
	DefaultWebhookTTL   = 2 * time.Second
	DefaultDisableAfter = 5 * 24 * time.Hour
	workerIdleTimeout   = 10 * time.Second
)

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Store holds deliveries. Required.
	Store herald.Store
	// Sender sends them. Required.
	Sender *Sender
	// Logger receives failures of the engine itself. Defaults to
	// slog.Default().
	Logger *slog.Logger
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// Jitter returns a number in [0, 1) that scales retry jitter.
	// Defaults to math/rand/v2's Float64.
	Jitter func() float64
	// Lease is how long a claimed delivery stays with this process before
	// another may take it. Defaults to DefaultLease.
	Lease time.Duration
	// QueueSize bounds the deliveries held in memory per webhook; the
	// rest wait in the store. Defaults to DefaultQueueSize.
	QueueSize int
	// PollInterval is how often every active webhook is checked for due
	// work that no signal announced (another process's, or a webhook
	// reactivated elsewhere). Defaults to DefaultPollInterval.
	PollInterval time.Duration
	// WebhookTTL is how long a webhook's configuration is cached.
	// Defaults to DefaultWebhookTTL.
	WebhookTTL time.Duration
	// SoleProcess says no other process shares the store, so every lease
	// left by an earlier run can be ended at start. Defaults to false.
	SoleProcess bool
	// Share returns this process's rank among the live processes that
	// share the store, and how many they are. A webhook's MaxInFlight is
	// split among them exactly: each gets MaxInFlight / count workers,
	// and the remainder goes one each to the processes whose rank,
	// rotated by the webhook, comes first. A process whose share is zero
	// sends nothing to that webhook. Defaults to a sole process.
	Share func() (rank, count int)
	// DisableAfter deactivates a webhook once every attempt to it has
	// failed for this long. Defaults to DefaultDisableAfter; negative
	// never deactivates (a 410 Gone still does).
	DisableAfter time.Duration
	// Observer hears what the engine does, for metrics. Defaults to one
	// that ignores everything.
	Observer Observer
}

func (c EngineConfig) withDefaults() EngineConfig {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Jitter == nil {
		c.Jitter = rand.Float64
	}
	if c.Lease <= 0 {
		c.Lease = DefaultLease
	}
	if c.QueueSize <= 0 {
		c.QueueSize = DefaultQueueSize
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.WebhookTTL <= 0 {
		c.WebhookTTL = DefaultWebhookTTL
	}
	if c.DisableAfter == 0 {
		c.DisableAfter = DefaultDisableAfter
	}
	if c.Observer == nil {
		c.Observer = ignoreAll{}
	}
	if c.Share == nil {
		c.Share = func() (int, int) { return 0, 1 }
	}
	return c
}

// Observer hears what an Engine does; *metrics.Metrics is the one
// implementation.
type Observer interface {
	// Published counts accepted events and the deliveries they created.
	Published(events, deliveries int)
	// SendStarted and SendDone bracket one attempt.
	SendStarted()
	SendDone(statusCode int, ok bool, took time.Duration)
	// Completed counts a delivery that reached a final status.
	Completed(status string)
}

type ignoreAll struct{}

func (ignoreAll) Published(int, int)                {}
func (ignoreAll) SendStarted()                      {}
func (ignoreAll) SendDone(int, bool, time.Duration) {}
func (ignoreAll) Completed(string)                  {}

// Engine delivers: it hands new deliveries straight to per-webhook queues,
// claims due ones from the store when a queue has room, sends each queue
// with at most the webhook's MaxInFlight workers, and records every
// attempt. A slow webhook fills only its own queue and its own workers.
type Engine struct {
	cfg      EngineConfig
	mu       sync.Mutex
	queues   map[string]*queue // by webhook id
	hooks    webhookCache
	wake     chan struct{}
	stopping chan struct{}
	stopOnce sync.Once
	loopDone chan struct{}
	renewed  chan struct{} // closed when the lease renewer is done
	workers  sync.WaitGroup
	results  chan herald.AttemptResult // to the recorder
	recorded chan struct{}             // closed when the recorder is done
	sendCtx  context.Context           // ends when Stop's grace runs out
	cancel   context.CancelFunc
}

// queue is one webhook's deliveries in memory. Guarded by Engine.mu.
type queue struct {
	jobs chan *herald.Job
	// held holds the ids queued or in flight, so a re-claimed delivery
	// (its lease ran out while it waited) is not queued twice.
	held       map[string]bool
	workers    int
	maxWorkers int
	// tenant and maxInFlight are the webhook's, once a delivery has
	// loaded it; maxInFlight is 0 until then.
	tenant      string
	maxInFlight int
	// nextDue is when the store next has due work for this webhook that
	// is not in memory; zero when none is known.
	nextDue time.Time
}

// NewEngine returns an Engine; Start runs it.
func NewEngine(cfg EngineConfig) (*Engine, error) {
	cfg = cfg.withDefaults()
	if cfg.Store == nil || cfg.Sender == nil {
		return nil, errors.New("delivery: EngineConfig.Store and Sender are required")
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{
		cfg:      cfg,
		queues:   map[string]*queue{},
		hooks:    webhookCache{store: cfg.Store, ttl: cfg.WebhookTTL, now: cfg.Now, entries: map[string]cachedWebhook{}},
		wake:     make(chan struct{}, 1),
		stopping: make(chan struct{}),
		loopDone: make(chan struct{}),
		renewed:  make(chan struct{}),
		results:  make(chan herald.AttemptResult, maxRecordBatch),
		recorded: make(chan struct{}),
		sendCtx:  ctx,
		cancel:   cancel,
	}, nil
}

// Start ends stale leases (for a sole process) and starts claiming.
func (e *Engine) Start(ctx context.Context) error {
	if e.cfg.SoleProcess {
		if err := e.cfg.Store.ResetLeases(ctx); err != nil {
			return err
		}
	}
	go e.claimLoop()
	go e.recordLoop()
	go e.renewLoop()
	return nil
}

// Stop stops claiming, lets sends in flight finish until ctx ends (then
// cancels them), and hands queued deliveries back to the store.
func (e *Engine) Stop(ctx context.Context) error {
	e.stopOnce.Do(func() { close(e.stopping) })
	<-e.loopDone
	<-e.renewed
	done := make(chan struct{})
	go func() { e.workers.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		e.cancel()
		<-done
	}
	e.cancel()
	close(e.results)
	<-e.recorded
	return e.releaseQueued()
}

// renewLoop extends the leases of the deliveries this process holds,
// every quarter lease, so one that waits in a queue (behind a slow
// endpoint) longer than a lease is not taken and sent by another process
// meanwhile.
func (e *Engine) renewLoop() {
	defer close(e.renewed)
	t := time.NewTicker(e.cfg.Lease / 4)
	defer t.Stop()
	for {
		select {
		case <-e.stopping:
			return
		case <-t.C:
		}
		e.mu.Lock()
		var ids []string
		for _, q := range e.queues {
			for id := range q.held {
				ids = append(ids, id)
			}
		}
		e.mu.Unlock()
		now := e.cfg.Now()
		ctx, cancel := context.WithTimeout(context.Background(), e.cfg.Lease/4)
		if err := e.cfg.Store.ExtendLeases(ctx, ids, now, now.Add(e.cfg.Lease)); err != nil {
			e.cfg.Logger.Warn("cannot extend the leases of held deliveries; another process may send them too", "deliveries", len(ids), "err", err)
		}
		cancel()
	}
}

// releaseQueued ends the leases of deliveries still queued at stop.
func (e *Engine) releaseQueued() error {
	e.mu.Lock()
	var ids []string
	for _, q := range e.queues {
		for len(q.jobs) > 0 {
			ids = append(ids, (<-q.jobs).DeliveryID)
		}
	}
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return e.cfg.Store.ReleaseJobs(ctx, ids)
}

// Publish stores events with their deliveries and starts sending them at
// once, without waiting for a claim.
func (e *Engine) Publish(ctx context.Context, in []herald.PublishInput) ([]herald.Published, error) {
	out, err := e.cfg.Store.PublishEvents(ctx, in, e.cfg.Now().Add(e.cfg.Lease))
	if err != nil {
		return nil, err
	}
	events, deliveries := 0, 0
	for _, p := range out {
		if !p.Repeat {
			events++
			deliveries += len(p.Deliveries)
		}
	}
	e.cfg.Observer.Published(events, deliveries)
	var overflow []string
	for _, p := range out {
		for _, job := range p.Deliveries {
			if !e.enqueue(job) {
				overflow = append(overflow, job.DeliveryID)
			}
		}
	}
	if len(overflow) > 0 {
		// Full queues: the store keeps these until there is room.
		if err := e.cfg.Store.ReleaseJobs(context.WithoutCancel(ctx), overflow); err != nil {
			e.cfg.Logger.Warn("cannot release overflow deliveries; they wait for their lease", "err", err)
		}
	}
	return out, nil
}

// WebhookChanged drops a webhook's cached configuration and looks for its
// due work at once: call it after a webhook is updated, reactivated or
// deleted.
func (e *Engine) WebhookChanged(webhookID string) {
	e.hooks.forget(webhookID)
	e.Wake(webhookID)
}

// Wake makes the engine look for a webhook's due deliveries now.
func (e *Engine) Wake(webhookID string) {
	e.mu.Lock()
	e.queueFor(webhookID).nextDue = e.cfg.Now()
	e.mu.Unlock()
	e.signal()
}

func (e *Engine) signal() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// queueFor returns the webhook's queue, creating it. Call with e.mu held.
func (e *Engine) queueFor(webhookID string) *queue {
	q := e.queues[webhookID]
	if q == nil {
		// One worker until the first delivery loads the webhook's own
		// cap: starting at a default could overshoot a lower cap.
		q = &queue{
			jobs:       make(chan *herald.Job, e.cfg.QueueSize),
			held:       map[string]bool{},
			maxWorkers: 1,
		}
		e.queues[webhookID] = q
	}
	return q
}

// enqueue queues a job unless its webhook's queue is full. A job already
// held counts as queued.
func (e *Engine) enqueue(job *herald.Job) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := e.queueFor(job.WebhookID)
	if q.held[job.DeliveryID] {
		return true
	}
	q.tenant = job.TenantID
	if q.maxInFlight > 0 && e.share(job.WebhookID, q.maxInFlight) == 0 {
		return false // another process sends to this webhook
	}
	if len(q.held) >= e.cfg.QueueSize {
		q.nextDue = e.cfg.Now()
		return false
	}
	q.held[job.DeliveryID] = true
	q.jobs <- job // never blocks: len(jobs) <= len(held) < cap
	e.addWorkers(job.WebhookID, q)
	return true
}

// share is how many workers this process may run for a webhook whose cap
// is maxInFlight: its exact part of the cap (see EngineConfig.Share).
func (e *Engine) share(webhookID string, maxInFlight int) int {
	rank, count := e.cfg.Share()
	count = max(count, 1)
	h := fnv.New32a()
	h.Write([]byte(webhookID))
	slot := (rank + int(h.Sum32()%uint32(count))) % count
	n := maxInFlight / count
	if slot < maxInFlight%count {
		n++
	}
	return n
}

// addWorkers starts workers up to the queue's cap and backlog. Call with
// e.mu held.
func (e *Engine) addWorkers(webhookID string, q *queue) {
	for q.workers < q.maxWorkers && q.workers < len(q.held) {
		q.workers++
		e.workers.Add(1)
		go e.work(webhookID, q)
	}
}
