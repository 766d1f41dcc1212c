// Package metrics holds herald's Prometheus metrics, served at GET
// /metrics. Labels are bounded on purpose (no webhook or tenant ids), so a
// busy herald cannot blow up its scraper.
//
// A nil *Metrics records nothing. delivery and httpapi see it through
// their own small interfaces; cmd/herald wires it in.
//
// It imports the Prometheus client library only.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are one herald process's metrics, in their own registry.
type Metrics struct {
	registry *prometheus.Registry

	eventsPublished   prometheus.Counter
	deliveriesCreated prometheus.Counter
	attempts          *prometheus.CounterVec
	attemptSeconds    prometheus.Histogram
	completed         *prometheus.CounterVec
	inFlight          prometheus.Gauge
	requests          *prometheus.CounterVec
	requestSeconds    *prometheus.HistogramVec
}

// New returns Metrics with the Go runtime and process collectors, and a
// herald_build_info gauge carrying version.
func New(version string) *Metrics {
	r := prometheus.NewRegistry()
	f := func(c prometheus.Collector) { r.MustRegister(c) }
	m := &Metrics{registry: r}
	m.eventsPublished = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_events_published_total", Help: "Events accepted (202), repeats of an idempotency key excluded."})
	m.deliveriesCreated = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "herald_deliveries_created_total", Help: "Deliveries created by published events, one per matching active webhook."})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_delivery_attempts_total",
		Help: "Delivery attempts by outcome (success, failure) and response class (2xx, 3xx, 4xx, 5xx, or none when no response arrived)."},
		[]string{"outcome", "code_class"})
	m.attemptSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "herald_delivery_attempt_duration_seconds",
		Help:    "Time from connecting to the endpoint to the end of its answer, per attempt.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15}})
	m.completed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_deliveries_completed_total", Help: "Deliveries that reached a final status: succeeded, or failed after their last retry."},
		[]string{"status"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "herald_delivery_sends_in_flight", Help: "Delivery attempts being sent now by this process."})
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "herald_http_requests_total", Help: "API requests by route pattern, method and status code."},
		[]string{"route", "code"})
	m.requestSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "herald_http_request_duration_seconds", Help: "API request latency by route pattern.",
		Buckets: prometheus.DefBuckets}, []string{"route"})
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "herald_build_info", Help: "Always 1; the version label says which herald runs.",
		ConstLabels: prometheus.Labels{"version": version}})
	build.Set(1)
	for _, c := range []prometheus.Collector{m.eventsPublished, m.deliveriesCreated, m.attempts, m.attemptSeconds,
		m.completed, m.inFlight, m.requests, m.requestSeconds, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{})} {
		f(c)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// Published counts accepted events and the deliveries they created.
func (m *Metrics) Published(events, deliveries int) {
	if m == nil {
		return
	}
	m.eventsPublished.Add(float64(events))
	m.deliveriesCreated.Add(float64(deliveries))
}

// SendStarted and SendDone bracket one attempt in flight.
func (m *Metrics) SendStarted() {
	if m != nil {
		m.inFlight.Inc()
	}
}

// SendDone records an attempt's outcome: its status code (0 when no
// response arrived), whether it succeeded, and how long it took.
func (m *Metrics) SendDone(statusCode int, ok bool, took time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	outcome := "failure"
	if ok {
		outcome = "success"
	}
	m.attempts.WithLabelValues(outcome, codeClass(statusCode)).Inc()
	m.attemptSeconds.Observe(took.Seconds())
}

// Completed counts a delivery that reached a final status.
func (m *Metrics) Completed(status string) {
	if m != nil {
		m.completed.WithLabelValues(status).Inc()
	}
}

func codeClass(code int) string {
	if code < 100 || code > 599 {
		return "none"
	}
	return strconv.Itoa(code/100) + "xx"
}

// Requests wraps an API handler to count its requests by the route
// pattern that matched (bounded, unlike raw paths).
func (m *Metrics) Requests(next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		m.requestSeconds.WithLabelValues(route).Observe(time.Since(start).Seconds())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
