package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestMetrics: /metrics counts what herald did: publishes, deliveries,
// attempts by outcome, final statuses and API requests by route.
func TestMetrics(t *testing.T) {
	t.Parallel()
	api, srv := newServer(t)
	ok := newReceiver(t, http.StatusOK)
	failing := newReceiver(t, http.StatusServiceUnavailable)
	register(t, api, `{"url":"`+ok.URL+`","events":["*"]}`)
	register(t, api, `{"url":"`+failing.URL+`","events":["*"],"retry_policy":{"max_retries":0}}`)
	publishEvent(t, api, `{"event":"batch.failed"}`)
	call(t, "GET", api+"/webhooks/wh_unknown", "")

	metric := func(body, line string) bool {
		for _, l := range strings.Split(body, "\n") {
			if l == line {
				return true
			}
		}
		return false
	}
	want := []string{
		`herald_events_published_total 1`,
		`herald_deliveries_created_total 2`,
		`herald_delivery_attempts_total{code_class="2xx",outcome="success"} 1`,
		`herald_delivery_attempts_total{code_class="5xx",outcome="failure"} 1`,
		`herald_deliveries_completed_total{status="succeeded"} 1`,
		`herald_deliveries_completed_total{status="failed"} 1`,
		`herald_http_requests_total{code="201",route="POST /api/v1/webhooks"} 2`,
		`herald_http_requests_total{code="202",route="POST /api/v1/events"} 1`,
		`herald_http_requests_total{code="404",route="GET /api/v1/webhooks/{id}"} 1`,
		`herald_delivery_sends_in_flight 0`,
		`herald_build_info{version="test"} 1`,
	}
	var body string
	waitFor(t, 5*time.Second, "the metrics of both deliveries", func() bool {
		a := call(t, "GET", srv.URL+"/metrics", "")
		if a.status != http.StatusOK {
			t.Fatalf("GET /metrics = %d", a.status)
		}
		body = a.raw
		for _, line := range want {
			if !metric(body, line) {
				return false
			}
		}
		return true
	})
	if !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "herald_delivery_attempt_duration_seconds_bucket") {
		t.Fatalf("runtime or latency metrics missing:\n%s", body)
	}
}

// TestBacklogMetrics: a delivery waiting for its retry shows in the
// pending count and the age of the oldest pending delivery.
func TestBacklogMetrics(t *testing.T) {
	t.Parallel()
	api, srv := newServer(t)
	down := newReceiver(t, http.StatusServiceUnavailable)
	register(t, api, `{"url":"`+down.URL+`","events":["*"],"retry_policy":{"initial_delay":3600000,"max_delay":3600000}}`)
	publishEvent(t, api, `{"event":"batch.failed"}`)
	waitFor(t, 5*time.Second, "the first attempt", func() bool { return down.count() == 1 })
	body := call(t, "GET", srv.URL+"/metrics", "").raw
	if !strings.Contains(body, "\nherald_deliveries_pending 1\n") || !strings.Contains(body, "herald_delivery_oldest_pending_age_seconds ") {
		t.Fatalf("backlog metrics missing or wrong:\n%s", body)
	}
}
