package main_test

import (
	"github.com/heraldhq/herald/internal/heraldtest"

	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventLog records which events a receiver got, and how often.
type eventLog struct {
	mu   sync.Mutex
	seen map[string]int
}

func (l *eventLog) counts() (unique, duplicates int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range l.seen {
		unique++
		duplicates += n - 1
	}
	return unique, duplicates
}

// newEventLogReceiver starts a receiver that logs each delivery's
// webhook-id, after delay (a receiver that does some work).
func newEventLogReceiver(t *testing.T, delay time.Duration) (*eventLog, *httptest.Server) {
	log := &eventLog{seen: map[string]int{}}
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(delay)
		log.mu.Lock()
		log.seen[r.Header.Get("webhook-id")]++
		log.mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	return log, rc
}

// waitArrived waits until every id has arrived, and reports how many
// arrived and how many more than once.
func (l *eventLog) waitArrived(t *testing.T, ids []string, within time.Duration) (unique, duplicates int) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		missing := l.missing(ids)
		if len(missing) == 0 {
			return l.counts()
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted events never arrived, e.g. %v", len(missing), len(ids), missing[:min(5, len(missing))])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (l *eventLog) missing(ids []string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, id := range ids {
		if l.seen[id] == 0 {
			out = append(out, id)
		}
	}
	return out
}

// publishBatch publishes n events in one request and returns their ids, or
// an error if herald did not answer 202.
func publishBatch(addr string, n, from int) ([]string, error) {
	var b strings.Builder
	b.WriteString(`{"events":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"event":"batch.completed","data":{"n":%d}}`, from+i)
	}
	b.WriteString("]}")
	resp, err := http.Post("http://"+addr+"/api/v1/events/batch", "application/json", strings.NewReader(b.String()))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	var out struct {
		Data struct {
			Events []struct {
				EventID string `json:"event_id"`
			}
		}
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, err
	}
	ids := make([]string, len(out.Data.Events))
	for i, e := range out.Data.Events {
		ids[i] = e.EventID
	}
	return ids, nil
}

// TestKill9LosesNothing publishes thousands of events to the real binary,
// kills it with SIGKILL while it delivers, restarts it on the same file,
// and checks every accepted event reached the receiver.
func TestKill9LosesNothing(t *testing.T) {
	t.Parallel()
	log, rc := newEventLogReceiver(t, time.Millisecond)

	// On PostgreSQL a restarted herald cannot tell its old leases from
	// another live process's, so it waits for them to run out: keep them
	// short here.
	db := heraldtest.DB(t)
	p := startHerald(t, nil, "--db", db, "--allow-private-targets", "--lease", "3s")
	cli(t, p.addr, "webhooks", "register", "--url", rc.URL, "--events", "batch.*", "--max-in-flight", "8",
		"--initial-delay", "100ms", "--max-delay", "500ms")

	const total, batch = 5000, 100
	var accepted []string
	killed := false
	for from := 0; from < total; from += batch {
		if !killed && len(accepted) >= total/2 {
			// Kill while deliveries are in flight and most are queued.
			p.cmd.Process.Kill()
			<-p.done
			killed = true
			if unique, _ := log.counts(); unique >= len(accepted) {
				t.Logf("note: every accepted event had arrived before the kill")
			}
			p = startHerald(t, nil, "--db", db, "--allow-private-targets", "--lease", "3s")
		}
		ids, err := publishBatch(p.addr, batch, from)
		if err != nil {
			t.Fatalf("publish: %v", err)
		}
		accepted = append(accepted, ids...)
	}
	unique, dups := log.waitArrived(t, accepted, 60*time.Second)
	t.Logf("SIGKILL mid-delivery: %d accepted, %d arrived, %d duplicates", len(accepted), unique, dups)

	// The log agrees: every delivery succeeded.
	out := cli(t, p.addr, "webhooks", "stats", "--json")
	var stats struct {
		Total     int `json:"total_deliveries"`
		Succeeded int `json:"successful_deliveries"`
	}
	json.NewDecoder(bytes.NewReader([]byte(out))).Decode(&stats)
	deadline := time.Now().Add(30 * time.Second)
	for stats.Succeeded != total {
		if time.Now().After(deadline) {
			t.Fatalf("stats = %+v, want %d succeeded", stats, total)
		}
		time.Sleep(20 * time.Millisecond)
		json.Unmarshal([]byte(cli(t, p.addr, "webhooks", "stats", "--json")), &stats)
	}
}

// TestSIGTERMFinishesSendsInFlight stops herald while a slow receiver holds
// its sends: they finish and are recorded, the rest wait in the store, and
// a restart delivers them without sending anything twice.
func TestSIGTERMFinishesSendsInFlight(t *testing.T) {
	t.Parallel()
	log := &eventLog{seen: map[string]int{}}
	started := make(chan struct{}, 100)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		started <- struct{}{}
		time.Sleep(300 * time.Millisecond)
		log.mu.Lock()
		log.seen[r.Header.Get("webhook-id")]++
		log.mu.Unlock()
	}))
	defer rc.Close()
	db := heraldtest.DB(t)
	p := startHerald(t, nil, "--db", db, "--allow-private-targets")
	cli(t, p.addr, "webhooks", "register", "--url", rc.URL, "--events", "batch.*", "--max-in-flight", "2")
	accepted, err := publishBatch(p.addr, 20, 0)
	if err != nil {
		t.Fatal(err)
	}
	<-started
	p.stop(t) // SIGTERM; fails the test unless herald exits 0
	if unique, _ := log.counts(); unique == 0 {
		t.Fatal("herald exited before its sends in flight finished")
	}
	p = startHerald(t, nil, "--db", db, "--allow-private-targets")
	if _, dups := log.waitArrived(t, accepted, 30*time.Second); dups != 0 {
		t.Fatalf("%d duplicates after a clean stop, want 0", dups)
	}
}

// TestBenchRuns runs every bench scenario at a hundredth of its size, so
// the command that produces the published numbers keeps working.
func TestBenchRuns(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(heraldBin, "bench", "--scale", "0.01", "--json").Output()
	if err != nil {
		t.Fatalf("herald bench: %v\n%s", err, out)
	}
	var results []struct {
		Scenario   string
		Mode       string
		Deliveries int64
		PerSecond  float64 `json:"deliveries_per_second"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	if len(results) != 6 {
		t.Fatalf("bench gave %d results, want 6 (raw and herald for two scenarios, two isolation runs)", len(results))
	}
	for _, r := range results {
		if r.Deliveries == 0 || r.PerSecond <= 0 {
			t.Errorf("%s/%s measured nothing: %+v", r.Scenario, r.Mode, r)
		}
	}
}
