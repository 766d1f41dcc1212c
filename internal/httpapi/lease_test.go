package httpapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/heraldtest"
)

// TestHeldDeliveriesKeepTheirLeases: two heralds share one PostgreSQL
// database. One holds a queue of deliveries behind a slow endpoint for far
// longer than a lease; it keeps extending their leases, so the other,
// polling all the while, takes none of them: no duplicates, and the
// webhook's cap of one send at a time holds.
func TestHeldDeliveriesKeepTheirLeases(t *testing.T) {
	t.Parallel()
	db := heraldtest.PostgresURL(t)
	var (
		mu       sync.Mutex
		seen     = map[string]int{}
		inFlight int
		maxSeen  int
	)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("webhook-id")]++
		inFlight++
		maxSeen = max(maxSeen, inFlight)
		mu.Unlock()
		time.Sleep(100 * time.Millisecond) // a slow endpoint
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	t.Cleanup(rc.Close)
	// Leases of 600 ms, renewed every 150 ms: room for a slow CI machine,
	// and still far shorter than the queue takes to drain.
	engine := delivery.EngineConfig{Lease: 600 * time.Millisecond, PollInterval: 20 * time.Millisecond}
	a := heraldtest.NewServer(t, heraldtest.Options{DBPath: db, AllowPrivateTargets: true, Engine: engine})
	heraldtest.NewServer(t, heraldtest.Options{DBPath: db, AllowPrivateTargets: true, Engine: engine})
	api := a.URL + "/api/v1"
	register(t, api, `{"url":"`+rc.URL+`","events":["*"],"max_in_flight":1}`)

	const n = 24 // 2.4 s of sends: four leases' worth
	events := make([]string, n)
	for i := range events {
		events[i] = fmt.Sprintf(`{"event":"batch.failed","data":{"n":%d}}`, i)
	}
	published := call(t, "POST", api+"/events/batch", `{"events":[`+strings.Join(events, ",")+`]}`)
	wantStatus(t, published, http.StatusAccepted)
	waitFor(t, 10*time.Second, "every delivery", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == n
	})
	// Once every attempt is recorded, no lease is left to run out.
	waitFor(t, 5*time.Second, "the deliveries to be recorded", func() bool {
		st := call(t, "GET", api+"/webhooks/stats", "").data(t)
		return st["successful_deliveries"] == float64(n)
	})
	mu.Lock()
	defer mu.Unlock()
	for id, count := range seen {
		if count != 1 {
			t.Errorf("event %s arrived %d times", id, count)
		}
	}
	if maxSeen != 1 {
		t.Errorf("%d sends in flight at once, want the webhook's cap of 1", maxSeen)
	}
}
