// Package bench measures herald end to end against the raw speed of the
// machine: plain HTTP POSTs of the same body to the same loopback receiver
// with the same concurrency, and herald, started as a separate process,
// taking events through its API and delivering them to that receiver.
//
// It imports the SDK and the standard library; cmd/herald wires it to the
// bench command.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Config says what to measure.
type Config struct {
	// HeraldBinary is the herald executable to start. Required.
	HeraldBinary string
	// DB is empty for a fresh SQLite file per run, or a postgres:// URL in
	// whose database each run gets a fresh schema, dropped afterwards.
	DB string
	// Processes is how many heralds share the database (more than one
	// needs PostgreSQL). Defaults to 1.
	Processes int
	// Concurrency is the number of sends in flight, for herald (split
	// across the scenario's webhooks) and the raw baseline alike.
	Concurrency int
	// Scenarios to run: "fanout1", "fanout10", "isolation". Empty: all.
	Scenarios []string
	// Scale multiplies every scenario's event counts (1 = as specified).
	Scale float64
	// Log receives progress lines.
	Log func(format string, args ...any)
}

// Result is one measured run.
type Result struct {
	Scenario   string  `json:"scenario"`
	Mode       string  `json:"mode"` // "raw" or "herald"
	Processes  int     `json:"processes,omitempty"`
	Deliveries int64   `json:"deliveries"`
	Seconds    float64 `json:"seconds"`
	PerSecond  float64 `json:"deliveries_per_second"`
	P50MS      float64 `json:"p50_ms,omitempty"`
	P99MS      float64 `json:"p99_ms,omitempty"`
	PeakRSSMB  float64 `json:"peak_rss_mb,omitempty"`
	RatioToRaw float64 `json:"ratio_to_raw,omitempty"`
	Note       string  `json:"note,omitempty"`
}

// body is what the raw baseline posts: a delivery body of the size herald
// sends in the scenarios.
var body = []byte(`{"id":"evt_01a24174ab5d7ee1a75af2d3f5b13ebe","event":"batch.completed","timestamp":1796394494,"data":{"n":12345,"batch_id":"b_42","status":"ok"}}`)

// Run runs the scenarios and returns their results.
func Run(ctx context.Context, cfg Config) ([]Result, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 32
	}
	if cfg.Scale <= 0 {
		cfg.Scale = 1
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	if len(cfg.Scenarios) == 0 {
		cfg.Scenarios = []string{"fanout1", "fanout10", "isolation"}
	}
	rc, err := startReceiver()
	if err != nil {
		return nil, err
	}
	defer rc.close()
	var results []Result
	for _, name := range cfg.Scenarios {
		var rs []Result
		switch name {
		case "fanout1":
			rs, err = runFanout(ctx, cfg, rc, name, 1, cfg.scaled(20000))
		case "fanout10":
			rs, err = runFanout(ctx, cfg, rc, name, 10, cfg.scaled(2000))
		case "isolation":
			rs, err = runIsolation(ctx, cfg, rc)
		default:
			err = fmt.Errorf("unknown scenario %q: want fanout1, fanout10 or isolation", name)
		}
		if err != nil {
			return results, fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, rs...)
	}
	return results, nil
}

func (c Config) scaled(n int) int { return max(1, int(float64(n)*c.Scale)) }

// runRaw posts n copies of body to the receiver with cfg.Concurrency
// workers: the ceiling herald is measured against.
func runRaw(ctx context.Context, cfg Config, rc *receiver, n int) Result {
	rc.reset()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.Concurrency}}
	defer client.CloseIdleConnections()
	var (
		wg   sync.WaitGroup
		next = make(chan struct{}, n)
	)
	for range n {
		next <- struct{}{}
	}
	close(next)
	var (
		mu  sync.Mutex
		lat = make([]time.Duration, 0, n)
	)
	start := time.Now()
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, n/cfg.Concurrency+1)
			for range next {
				sent := time.Now()
				req, _ := http.NewRequestWithContext(ctx, "POST", rc.url+"/raw", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if resp, err := client.Do(req); err == nil {
					resp.Body.Close()
				}
				mine = append(mine, time.Since(sent))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	p50, p99 := percentiles(lat)
	return Result{Mode: "raw", Deliveries: rc.arrived.Load(), Seconds: secs, PerSecond: float64(rc.arrived.Load()) / secs,
		P50MS: p50, P99MS: p99, Note: "plain HTTP POSTs; latency is per request"}
}

// percentiles returns p50 and p99 in milliseconds.
func percentiles(d []time.Duration) (float64, float64) {
	if len(d) == 0 {
		return 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	at := func(p float64) float64 {
		return float64(s[min(len(s)-1, int(p*float64(len(s))))].Microseconds()) / 1000
	}
	return at(0.50), at(0.99)
}
