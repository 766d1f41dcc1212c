package main_test

import (
	"context"
	"fmt"
	"sync/atomic"

	"encoding/json"
	"github.com/jackc/pgx/v5"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/heraldtest"
)

// TestThreeProcessesShareOneQueue runs three heralds on one PostgreSQL
// schema, publishes through all of them, SIGKILLs one mid-way, and checks
// every accepted event arrived and the counts agree afterwards.
func TestThreeProcessesShareOneQueue(t *testing.T) {
	t.Parallel()
	log, rc := newEventLogReceiver(t, time.Millisecond)

	db := heraldtest.PostgresURL(t)
	args := []string{"--db", db, "--allow-private-targets", "--lease", "3s"}
	procs := []*process{startHerald(t, nil, args...), startHerald(t, nil, args...), startHerald(t, nil, args...)}
	cli(t, procs[0].addr, "webhooks", "register", "--url", rc.URL, "--events", "batch.*", "--max-in-flight", "4")

	const total, batch = 6000, 100
	var accepted []string
	alive := procs
	for n, from := 0, 0; from < total; n, from = n+1, from+batch {
		if len(alive) == 3 && from >= total/2 {
			procs[2].cmd.Process.Kill() // mid-way, with deliveries in flight
			<-procs[2].done
			alive = procs[:2]
		}
		ids, err := publishBatch(alive[n%len(alive)].addr, batch, from)
		if err != nil {
			t.Fatalf("publish through process %d: %v", n%len(alive), err)
		}
		accepted = append(accepted, ids...)
	}
	unique, dups := log.waitArrived(t, accepted, 90*time.Second)
	t.Logf("3 processes, one SIGKILLed mid-way: %d accepted, %d arrived, %d duplicates", len(accepted), unique, dups)

	// Stats count deliveries, exactly once each, once all are recorded.
	var stats struct {
		Total     int `json:"total_deliveries"`
		Succeeded int `json:"successful_deliveries"`
		Failed    int `json:"failed_deliveries"`
	}
	deadline := time.Now().Add(30 * time.Second)
	for stats.Succeeded != total {
		if time.Now().After(deadline) {
			t.Fatalf("stats = %+v, want %d succeeded", stats, total)
		}
		time.Sleep(20 * time.Millisecond)
		json.Unmarshal([]byte(cli(t, procs[1].addr, "webhooks", "stats", "--json")), &stats)
	}
	if stats.Total != total || stats.Failed != 0 {
		t.Fatalf("stats = %+v, want %d deliveries, all succeeded", stats, total)
	}
	// success_count counts recorded attempts: every delivery once, plus
	// recorded duplicates, never more than the receiver saw.
	var info struct {
		Webhooks []struct {
			SuccessCount int `json:"success_count"`
			ErrorCount   int `json:"error_count"`
		}
	}
	json.Unmarshal([]byte(cli(t, procs[0].addr, "webhooks", "list", "--json")), &info)
	if got := info.Webhooks[0].SuccessCount; got < total || got > unique+dups || info.Webhooks[0].ErrorCount != 0 {
		t.Fatalf("success_count = %d (errors %d), want between %d and %d", got, info.Webhooks[0].ErrorCount, total, unique+dups)
	}
}

// TestBenchOnPostgres runs the bench's fan-out on PostgreSQL with three
// processes, at a hundredth of its size.
func TestBenchOnPostgres(t *testing.T) {
	t.Parallel()
	heraldtest.PostgresURL(t) // skips or fails as the other PostgreSQL tests do
	base := os.Getenv("HERALD_TEST_POSTGRES_URL")
	out, err := exec.Command(heraldBin, "bench", "--db", base, "--processes", "3", "--scenarios", "fanout10",
		"--scale", "0.01", "--json").Output()
	if err != nil {
		t.Fatalf("herald bench on PostgreSQL: %v\n%s", err, out)
	}
	var results []struct {
		Mode       string
		Processes  int
		Deliveries int64
	}
	if err := json.Unmarshal(out, &results); err != nil || len(results) != 2 {
		t.Fatalf("bench --json = %s (%v), want 2 results", out, err)
	}
	if h := results[1]; h.Mode != "herald" || h.Processes != 3 || h.Deliveries != 200 {
		t.Fatalf("herald result = %+v, want 3 processes and 200 deliveries", h)
	}
}

// TestInFlightCapHoldsAcrossProcesses gives webhooks caps above, at and
// below the number of heralds (three): together they never send one more
// than its cap at once, and every delivery arrives.
func TestInFlightCapHoldsAcrossProcesses(t *testing.T) {
	t.Parallel()
	db := heraldtest.PostgresURL(t)
	args := []string{"--db", db, "--allow-private-targets"}
	procs := []*process{startHerald(t, nil, args...), startHerald(t, nil, args...), startHerald(t, nil, args...)}
	waitForHeartbeats(t, db, 3)
	type capped struct {
		cap            int32
		rc             *countingReceiver
		inFlight, peak atomic.Int32
	}
	var hooks []*capped
	for _, limit := range []int32{1, 2, 3, 4} {
		h := &capped{cap: limit}
		h.rc = newCountingReceiverFunc(t, func() {
			n := h.inFlight.Add(1)
			for p := h.peak.Load(); n > p && !h.peak.CompareAndSwap(p, n); p = h.peak.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			h.inFlight.Add(-1)
		})
		cli(t, procs[0].addr, "webhooks", "register", "--url", h.rc.URL, "--events", "batch.*", "--max-in-flight", fmt.Sprint(limit))
		hooks = append(hooks, h)
	}
	for i, p := range procs {
		if _, err := publishBatch(p.addr, 40, i*40); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, h := range hooks {
		for h.rc.count() < 120 {
			if time.Now().After(deadline) {
				t.Fatalf("cap %d: %d of 120 deliveries arrived", h.cap, h.rc.count())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := h.peak.Load(); got > h.cap {
			t.Errorf("a webhook with max_in_flight %d had %d requests in flight at once", h.cap, got)
		}
	}
}

// waitForHeartbeats waits until n heralds are registered and each has
// beaten since the last one joined, so each knows its share.
func waitForHeartbeats(t *testing.T, db string, n int) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var joined int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		var count int
		var oldest, newest int64
		conn.QueryRow(context.Background(), `SELECT count(*), coalesce(min(seen_at), 0), coalesce(max(seen_at), 0) FROM processes`).
			Scan(&count, &oldest, &newest)
		if count == n && joined == 0 {
			joined = newest
		}
		if joined != 0 && oldest > joined {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("heartbeats did not settle: %d processes", count)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
