package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/heraldtest"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// scriptedReceiver answers each request with the next status of a
// script, repeating the last one.
type scriptedReceiver struct {
	*receiver
	script []int
	header http.Header
}

func newScriptedReceiver(t *testing.T, header http.Header, script ...int) *scriptedReceiver {
	sr := &scriptedReceiver{script: script, header: header}
	sr.receiver = &receiver{}
	sr.receiver.Server = newServerFunc(t, func(w http.ResponseWriter, r *http.Request, n int) {
		for k, v := range sr.header {
			w.Header()[k] = v
		}
		sr.mu.Lock()
		status := sr.script[min(n, len(sr.script)-1)]
		sr.mu.Unlock()
		w.WriteHeader(status)
	}, sr.receiver)
	return sr
}

func publishEvent(t *testing.T, api, body string) map[string]any {
	t.Helper()
	a := call(t, "POST", api+"/events", body)
	wantStatus(t, a, http.StatusAccepted)
	return a.data(t)
}

func deliveries(t *testing.T, api, webhookID, query string) []map[string]any {
	t.Helper()
	a := call(t, "GET", api+"/webhooks/"+webhookID+"/deliveries"+query, "")
	wantStatus(t, a, http.StatusOK)
	var out []map[string]any
	for _, d := range a.data(t)["deliveries"].([]any) {
		out = append(out, d.(map[string]any))
	}
	return out
}

func TestPublishDeliversSignedEvent(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	rc := newReceiver(t, http.StatusOK)
	id := register(t, api, `{"url":"`+rc.URL+`","events":["template.*"],"secret":"webhook-secret-123"}`)
	register(t, api, `{"url":"`+rc.URL+`/batch","events":["batch.*"]}`) // does not match

	d := publishEvent(t, api, `{"event":"template.completed","data":{"template_id":"t_1"}}`)
	eventID := d["event_id"].(string)
	if !strings.HasPrefix(eventID, "evt_") || d["deliveries"] != 1.0 {
		t.Fatalf("publish answer = %v", d)
	}
	waitFor(t, 5*time.Second, "the delivery", func() bool { return rc.count() == 1 })
	req, body := rc.requests[0], rc.bodies[0]
	official, _ := standardwebhooks.NewWebhookRaw([]byte("webhook-secret-123"))
	if err := official.Verify(body, req.Header); err != nil {
		t.Fatalf("official library rejects the delivery: %v", err)
	}
	if req.Header.Get("webhook-id") != eventID || !strings.HasPrefix(string(body), `{"id":"`+eventID+`","event":"template.completed","timestamp":`) ||
		!strings.HasSuffix(string(body), `"data":{"template_id":"t_1"}}`) {
		t.Fatalf("delivery %s: %s", req.Header.Get("webhook-id"), body)
	}
	waitFor(t, 5*time.Second, "the delivery to be recorded", func() bool {
		ev := call(t, "GET", api+"/events/"+eventID, "").data(t)
		ds := ev["deliveries"].([]any)
		return len(ds) == 1 && ds[0].(map[string]any)["status"] == "succeeded"
	})
	ev := call(t, "GET", api+"/events/"+eventID, "").data(t)
	if ev["event"] != "template.completed" || ev["data"].(map[string]any)["template_id"] != "t_1" ||
		ev["deliveries"].([]any)[0].(map[string]any)["webhook_id"] != id {
		t.Fatalf("GET /events/%s = %v", eventID, ev)
	}
	wantStatus(t, call(t, "GET", api+"/events/evt_nope", ""), http.StatusNotFound)
}

func TestRetriesFollowThePolicy(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	rc := newScriptedReceiver(t, nil, 500, 500, 200)
	id := register(t, api, `{"url":"`+rc.URL+`","events":["*"],
		"retry_policy":{"max_retries":5,"initial_delay":200,"max_delay":10000,"backoff_factor":2}}`)
	eventID := publishEvent(t, api, `{"event":"batch.completed","data":{"n":1}}`)["event_id"].(string)

	var log []any
	waitFor(t, 10*time.Second, "the third attempt to succeed", func() bool {
		ds := deliveries(t, api, id, "")
		if len(ds) == 1 && ds[0]["status"] == "succeeded" {
			log = ds[0]["attempt_log"].([]any)
			return true
		}
		return false
	})
	if len(log) != 3 || rc.count() != 3 {
		t.Fatalf("attempts logged %d, received %d; want 3", len(log), rc.count())
	}
	at := func(i int) float64 { return log[i].(map[string]any)["attempted_at_ms"].(float64) }
	// Retry n waits 200 ms × 2^(n−1), less at most 10% jitter.
	for n, want := range map[int]float64{1: 200, 2: 400} {
		gap := at(n) - at(n-1)
		if gap < want*0.9-1 || gap > want+500 {
			t.Errorf("retry %d came after %v ms, want %v ms less at most 10%%", n, gap, want)
		}
	}
	first := log[0].(map[string]any)
	if first["status_code"] != 500.0 || first["error"] != "endpoint answered HTTP 500" {
		t.Errorf("first attempt = %v", first)
	}
	for i := range 3 {
		if !bytes.Equal(rc.bodies[i], rc.bodies[0]) || rc.requests[i].Header.Get("webhook-id") != eventID {
			t.Fatalf("attempt %d sent other bytes or another webhook-id", i+1)
		}
	}
	info := call(t, "GET", api+"/webhooks/"+id, "").data(t)
	if info["success_count"] != 1.0 || info["error_count"] != 2.0 {
		t.Fatalf("counters = %v/%v, want 1/2", info["success_count"], info["error_count"])
	}
}

func TestFailedAfterMaxRetriesThenManualRetryAndRecover(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	rc := newScriptedReceiver(t, nil, 500)
	id := register(t, api, `{"url":"`+rc.URL+`","events":["*"],
		"retry_policy":{"max_retries":2,"initial_delay":100,"max_delay":100,"backoff_factor":1}}`)
	publishEvent(t, api, `{"event":"batch.failed"}`)
	waitFor(t, 10*time.Second, "the delivery to fail", func() bool {
		ds := deliveries(t, api, id, "?status=failed")
		return len(ds) == 1
	})
	if rc.count() != 3 {
		t.Fatalf("receiver got %d attempts, want 3 (1 + 2 retries)", rc.count())
	}
	stats := call(t, "GET", api+"/webhooks/stats", "").data(t)
	if stats["failed_deliveries"] != 1.0 || stats["total_deliveries"] != 1.0 {
		t.Fatalf("stats = %v", stats)
	}

	rc.mu.Lock()
	rc.script = []int{200}
	rc.mu.Unlock()
	deliveryID := deliveries(t, api, id, "")[0]["id"].(string)
	a := call(t, "POST", api+"/webhooks/"+id+"/deliveries/"+deliveryID+"/retry", "")
	wantStatus(t, a, http.StatusAccepted)
	waitFor(t, 5*time.Second, "the manual retry to succeed", func() bool {
		return deliveries(t, api, id, "")[0]["status"] == "succeeded"
	})
	wantStatus(t, call(t, "POST", api+"/webhooks/"+id+"/deliveries/dlv_nope/retry", ""), http.StatusNotFound)

	// recover: a second failure, re-queued by time.
	rc.mu.Lock()
	rc.script = []int{500, 500, 500, 200}
	rc.requests = nil
	rc.mu.Unlock()
	publishEvent(t, api, `{"event":"batch.failed"}`)
	waitFor(t, 10*time.Second, "the second delivery to fail", func() bool {
		return len(deliveries(t, api, id, "?status=failed")) == 1
	})
	a = call(t, "POST", api+"/webhooks/"+id+"/recover", fmt.Sprintf(`{"since":%d}`, time.Now().Add(-time.Minute).Unix()))
	wantStatus(t, a, http.StatusAccepted)
	if a.data(t)["recovered"] != 1.0 {
		t.Fatalf("recover = %s", a.raw)
	}
	waitFor(t, 5*time.Second, "the recovered delivery to succeed", func() bool {
		return len(deliveries(t, api, id, "?status=succeeded")) == 2
	})
	wantStatus(t, call(t, "POST", api+"/webhooks/"+id+"/recover", `{}`), http.StatusBadRequest)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	rc := newScriptedReceiver(t, http.Header{"Retry-After": {"1"}}, 503, 200)
	id := register(t, api, `{"url":"`+rc.URL+`","events":["*"],
		"retry_policy":{"max_retries":3,"initial_delay":100,"max_delay":5000,"backoff_factor":2}}`)
	publishEvent(t, api, `{"event":"batch.failed"}`)
	var log []any
	waitFor(t, 10*time.Second, "the retry", func() bool {
		ds := deliveries(t, api, id, "?status=succeeded")
		if len(ds) == 1 {
			log = ds[0]["attempt_log"].([]any)
		}
		return len(ds) == 1
	})
	gap := log[1].(map[string]any)["attempted_at_ms"].(float64) - log[0].(map[string]any)["attempted_at_ms"].(float64)
	if gap < 1000 {
		t.Fatalf("retry after %v ms despite Retry-After: 1", gap)
	}
}

func TestPauseResumeAndDelete(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	rc := newReceiver(t, http.StatusOK)
	id := register(t, api, `{"url":"`+rc.URL+`","events":["*"],"active":false}`)
	eventID := publishEvent(t, api, `{"event":"batch.failed"}`)["event_id"].(string)
	// Inactive webhooks get no deliveries at publish time.
	if ds := call(t, "GET", api+"/events/"+eventID, "").data(t)["deliveries"].([]any); len(ds) != 0 {
		t.Fatalf("inactive webhook got deliveries: %v", ds)
	}

	wantStatus(t, call(t, "PATCH", api+"/webhooks/"+id, `{"config":{"active":true}}`), http.StatusOK)
	// Pause with work in the store: a failing endpoint leaves a pending retry.
	rc.mu.Lock()
	rc.status = 500
	rc.mu.Unlock()
	wantStatus(t, call(t, "PATCH", api+"/webhooks/"+id, `{"config":{"retry_policy":{"initial_delay":300,"max_delay":300}}}`), http.StatusOK)
	publishEvent(t, api, `{"event":"batch.failed"}`)
	waitFor(t, 5*time.Second, "the first attempt", func() bool { return rc.count() == 1 })
	wantStatus(t, call(t, "PATCH", api+"/webhooks/"+id, `{"config":{"active":false}}`), http.StatusOK)
	rc.mu.Lock()
	rc.status = 200
	rc.mu.Unlock()
	// Nothing may arrive while paused: watch past the retry's due time.
	time.Sleep(600 * time.Millisecond)
	if rc.count() != 1 {
		t.Fatalf("paused webhook received %d requests, want 1", rc.count())
	}
	wantStatus(t, call(t, "PATCH", api+"/webhooks/"+id, `{"config":{"active":true}}`), http.StatusOK)
	waitFor(t, 5*time.Second, "delivery after reactivation", func() bool {
		return len(deliveries(t, api, id, "?status=succeeded")) == 1
	})

	// Delete cancels what is pending.
	rc.mu.Lock()
	rc.status = 500
	rc.mu.Unlock()
	eventID = publishEvent(t, api, `{"event":"batch.failed"}`)["event_id"].(string)
	waitFor(t, 5*time.Second, "a failed attempt", func() bool { return rc.count() == 3 })
	wantStatus(t, call(t, "DELETE", api+"/webhooks/"+id, ""), http.StatusOK)
	ds := call(t, "GET", api+"/events/"+eventID, "").data(t)["deliveries"].([]any)
	if len(ds) != 1 || ds[0].(map[string]any)["status"] != "cancelled" {
		t.Fatalf("after delete: %v", ds)
	}
}

func TestDeadEndpointDoesNotDelayHealthyOne(t *testing.T) {
	t.Parallel()
	srv := heraldtest.NewServer(t, heraldtest.Options{
		AllowPrivateTargets: true,
		Sender:              delivery.SenderConfig{Timeout: 2 * time.Second},
	})
	api := srv.URL + "/api/v1"
	release := make(chan struct{})
	dead := newServerFunc(t, func(w http.ResponseWriter, r *http.Request, _ int) { <-release }, &receiver{})
	t.Cleanup(func() { close(release) })
	healthy := newReceiver(t, http.StatusOK)
	register(t, api, `{"url":"`+dead.URL+`","events":["batch.*"]}`)
	register(t, api, `{"url":"`+healthy.URL+`","events":["batch.*"]}`)

	for i := 0; i < 200; i += 50 {
		var b strings.Builder
		b.WriteString(`{"events":[`)
		for j := range 50 {
			if j > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `{"event":"batch.completed","data":{"n":%d}}`, i+j)
		}
		b.WriteString(`]}`)
		wantStatus(t, call(t, "POST", api+"/events/batch", b.String()), http.StatusAccepted)
	}
	start := time.Now()
	waitFor(t, 10*time.Second, "all 200 healthy deliveries", func() bool { return healthy.count() == 200 })
	// The dead endpoint holds its 10 sends for the 2 s timeout; the
	// healthy one must not wait for them.
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Fatalf("healthy deliveries took %v beside a dead endpoint", took)
	}
}

func TestPublishValidation(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	big := `{"event":"batch.failed","data":{"blob":"` + strings.Repeat("x", 256<<10) + `"}}`
	tests := []struct {
		name, path, body string
		status           int
		field, message   string
	}{
		{"unknown type", "/events", `{"event":"order.created"}`, 400, "event", "known types: batch.completed"},
		{"missing type", "/events", `{"data":{}}`, 400, "event", "required"},
		{"data not an object", "/events", `{"event":"batch.failed","data":[1]}`, 400, "data", "must be a JSON object"},
		{"payload too large", "/events", big, 413, "data", "at most 262144 bytes"},
		{"empty batch", "/events/batch", `{"events":[]}`, 400, "events", "at least one"},
		{"bad event in batch", "/events/batch", `{"events":[{"event":"batch.failed"},{"event":"nope"}]}`, 400, "events[1].event", "unknown event type"},
		{"batch too large", "/events/batch", `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"event":"batch.failed"},`, 501), ",") + `]}`, 400, "events", "at most 500"},
	}
	for _, tt := range tests {
		a := call(t, "POST", api+tt.path, tt.body)
		if a.status != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.name, a.status, tt.status, a.raw)
			continue
		}
		e := a.apiError(t)
		if e["field"] != tt.field || !strings.Contains(e["message"].(string), tt.message) {
			t.Errorf("%s: error %v, want field %q with %q", tt.name, e, tt.field, tt.message)
		}
	}
}

func TestPublishIdempotency(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	rc := newReceiver(t, http.StatusOK)
	register(t, api, `{"url":"`+rc.URL+`","events":["*"]}`)
	first := publishEvent(t, api, `{"event":"batch.failed","idempotency_key":"order-1"}`)
	again := publishEvent(t, api, `{"event":"batch.failed","idempotency_key":"order-1"}`)
	if again["event_id"] != first["event_id"] || again["duplicate"] != true || again["deliveries"] != 1.0 {
		t.Fatalf("repeat = %v, want %v marked duplicate", again, first)
	}
	h1 := call(t, "POST", api+"/events", `{"event":"batch.failed"}`, "Idempotency-Key", "hdr-1")
	h2 := call(t, "POST", api+"/events", `{"event":"batch.failed"}`, "Idempotency-Key", "hdr-1")
	if h1.raw != h2.raw || h2.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("header replay = %s, want %s", h2.raw, h1.raw)
	}
	waitFor(t, 5*time.Second, "two deliveries", func() bool { return rc.count() == 2 })
	stats := call(t, "GET", api+"/webhooks/stats", "").data(t)
	if stats["total_deliveries"] != 2.0 {
		t.Fatalf("stats = %v, want 2 deliveries", stats)
	}
}

func TestCountersExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	rc := newReceiver(t, http.StatusOK)
	id := register(t, api, `{"url":"`+rc.URL+`","events":["*"],"max_in_flight":20}`)
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if a := call(t, "POST", api+"/events", `{"event":"batch.completed"}`); a.status != http.StatusAccepted {
					t.Errorf("publish: %d %s", a.status, a.raw)
				}
			}
		}()
	}
	wg.Wait()
	waitFor(t, 10*time.Second, "200 successful deliveries", func() bool {
		return call(t, "GET", api+"/webhooks/stats", "").data(t)["successful_deliveries"] == 200.0
	})
	info := call(t, "GET", api+"/webhooks/"+id, "").data(t)
	if info["success_count"] != 200.0 || info["error_count"] != 0.0 || rc.count() != 200 {
		t.Fatalf("success_count %v, received %d; want 200 each", info["success_count"], rc.count())
	}
}

// TestSmallQueuesLoseNothing runs the engine with tiny per-webhook queues,
// so nearly every delivery goes through overflow, release and claim; every
// one must arrive well before any lease (5 minutes) could run out.
func TestSmallQueuesLoseNothing(t *testing.T) {
	t.Parallel()
	srv := heraldtest.NewServer(t, heraldtest.Options{
		AllowPrivateTargets: true,
		Engine:              delivery.EngineConfig{QueueSize: 4},
	})
	api := srv.URL + "/api/v1"
	rc := newReceiver(t, http.StatusOK)
	register(t, api, `{"url":"`+rc.URL+`","events":["*"],"max_in_flight":3}`)
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := `{"events":[` + strings.TrimSuffix(strings.Repeat(`{"event":"batch.failed"},`, 50), ",") + `]}`
			if a := call(t, "POST", api+"/events/batch", body); a.status != http.StatusAccepted {
				t.Errorf("publish: %d %s", a.status, a.raw)
			}
		}()
	}
	wg.Wait()
	waitFor(t, 20*time.Second, "300 deliveries", func() bool { return rc.count() >= 300 })
}
