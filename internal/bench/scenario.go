package bench

import (
	"context"
	"fmt"
	"time"
)

const deliveryTimeout = 10 * time.Minute

// runFanout measures webhooks × events deliveries: raw first, then herald.
func runFanout(ctx context.Context, cfg Config, rc *receiver, name string, webhooks, events int) ([]Result, error) {
	total := webhooks * events
	cfg.Log("%s: raw baseline, %d posts, %d in flight", name, total, cfg.Concurrency)
	raw := runRaw(ctx, cfg, rc, total)
	raw.Scenario = name

	cfg.Log("%s: herald, %d webhooks × %d events", name, webhooks, events)
	rc.reset()
	h, err := startCluster(ctx, cfg)
	if err != nil {
		return nil, err
	}
	defer h.stop()
	for i := range webhooks {
		if err := h.register(ctx, fmt.Sprintf("%s/ok/%d", rc.url, i), []string{"batch.*"}, max(1, cfg.Concurrency/webhooks)); err != nil {
			return nil, err
		}
	}
	var pb publisher
	if err := pb.publish(ctx, h.clients, "batch.completed", events, 250, 4, 0); err != nil {
		return nil, err
	}
	if !rc.waitFor(int64(total), deliveryTimeout) {
		return nil, fmt.Errorf("only %d of %d deliveries arrived", rc.arrived.Load(), total)
	}
	res := heraldResult(name, rc, &pb, h)
	res.RatioToRaw = res.PerSecond / raw.PerSecond
	return []Result{raw, res}, nil
}

func heraldResult(name string, rc *receiver, pb *publisher, h *cluster) Result {
	lat, last := rc.latencies(pb.published)
	secs := last.Sub(pb.first).Seconds()
	p50, p99 := percentiles(lat)
	return Result{
		Scenario: name, Mode: "herald", Deliveries: int64(len(lat)), Seconds: secs,
		PerSecond: float64(len(lat)) / secs, P50MS: p50, P99MS: p99, PeakRSSMB: h.peakRSSMB(),
		Processes: len(h.procs),
	}
}

// runIsolation measures a healthy endpoint's latency alone, then beside an
// endpoint that never answers and has a large backlog.
func runIsolation(ctx context.Context, cfg Config, rc *receiver) ([]Result, error) {
	healthy, backlog := cfg.scaled(2000), cfg.scaled(100000)
	alone, err := runHealthy(ctx, cfg, rc, healthy, 0)
	if err != nil {
		return nil, err
	}
	alone.Scenario = "isolation"
	alone.Note = "healthy endpoint alone"
	beside, err := runHealthy(ctx, cfg, rc, healthy, backlog)
	if err != nil {
		return nil, err
	}
	beside.Scenario = "isolation"
	beside.Note = fmt.Sprintf("healthy endpoint beside a dead one with %d pending; p99 %.2fx alone", backlog, beside.P99MS/alone.P99MS)
	return []Result{alone, beside}, nil
}

// runHealthy publishes a steady stream to a healthy endpoint, after
// loading a dead endpoint with backlog deliveries if backlog > 0.
func runHealthy(ctx context.Context, cfg Config, rc *receiver, healthy, backlog int) (Result, error) {
	rc.reset()
	h, err := startCluster(ctx, cfg)
	if err != nil {
		return Result{}, err
	}
	defer h.stop()
	if err := h.register(ctx, rc.url+"/ok/healthy", []string{"batch.completed"}, cfg.Concurrency); err != nil {
		return Result{}, err
	}
	if backlog > 0 {
		if err := h.register(ctx, rc.url+"/dead", []string{"batch.failed"}, cfg.Concurrency); err != nil {
			return Result{}, err
		}
		cfg.Log("isolation: loading %d deliveries for the dead endpoint", backlog)
		var dead publisher
		if err := dead.publish(ctx, h.clients, "batch.failed", backlog, 500, 4, 0); err != nil {
			return Result{}, err
		}
	}
	cfg.Log("isolation: %d events to the healthy endpoint (backlog %d)", healthy, backlog)
	var pb publisher
	// A steady stream, about 2,000 events a second, so latency measures
	// delivery rather than the queue of one burst.
	if err := pb.publish(ctx, h.clients, "batch.completed", healthy, 10, 1, 5*time.Millisecond); err != nil {
		return Result{}, err
	}
	if !rc.waitFor(int64(healthy), deliveryTimeout) {
		return Result{}, fmt.Errorf("only %d of %d healthy deliveries arrived", rc.arrived.Load(), healthy)
	}
	return heraldResult("isolation", rc, &pb, h), nil
}
