// Package httpapi serves herald's REST API: routes, authentication to a
// tenant, JSON in and out, and the conversion between wire types and domain
// types. It alone knows HTTP statuses.
//
// It imports the herald domain, types, and delivery (for test sends, so a
// test takes the same path as a real delivery).
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/types"
)

// Request limits.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultMaxPayloadBytes = 256 << 10
	DefaultMaxBatchEvents  = 500
	DefaultMaxWebhooks     = 1000
)

// Engine takes published events and hears of changes that affect
// delivery. *delivery.Engine is the one implementation.
type Engine interface {
	Publish(ctx context.Context, in []herald.PublishInput) ([]herald.Published, error)
	Wake(webhookID string)
	WebhookChanged(webhookID string)
}

// DefaultTenant owns everything when herald runs without API keys.
const DefaultTenant = "default"

const requestIDHeader = "X-Request-ID"

// Metrics serves the Prometheus metrics and counts API requests;
// *metrics.Metrics is the one implementation.
type Metrics interface {
	Handler() http.Handler
	// Requests wraps the API's handler to count its requests.
	Requests(next http.Handler) http.Handler
}

// Config configures a Server.
type Config struct {
	// Store holds everything. Required.
	Store herald.Store
	// Sender makes test sends. Required.
	Sender *delivery.Sender
	// Engine delivers published events. Required.
	Engine Engine
	// EventTypes are the accepted event types. Defaults to the built-in
	// ones.
	EventTypes *herald.EventTypes
	// Version is reported by /health and User-Agent. Defaults to "dev".
	Version string
	// Logger receives request errors. Defaults to slog.Default().
	Logger *slog.Logger
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
	// MaxBodyBytes bounds request bodies other than publishes. Defaults
	// to DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxPayloadBytes bounds one event's data. Defaults to
	// DefaultMaxPayloadBytes.
	MaxPayloadBytes int64
	// RequireAPIKey makes every /api/v1 request present a working API
	// key, which selects its tenant. When false, every request belongs to
	// DefaultTenant: cmd/herald allows that only on loopback. Defaults to
	// false.
	RequireAPIKey bool
	// MaxBatchEvents bounds the events of one batch publish. Defaults to
	// DefaultMaxBatchEvents.
	MaxBatchEvents int
	// MaxWebhooks caps each tenant's webhooks. Defaults to
	// DefaultMaxWebhooks; negative means no cap.
	MaxWebhooks int
	// RateLimit is the requests per second each API key may make, with
	// bursts of RateBurst; beyond it herald answers 429. Defaults to
	// DefaultRateLimit and DefaultRateBurst; negative means no limit.
	RateLimit float64
	RateBurst int
	// Metrics, when set, are served at GET /metrics and count every API
	// request. Defaults to none.
	Metrics Metrics
}

func (c Config) withDefaults() Config {
	if c.EventTypes == nil {
		c.EventTypes, _ = herald.NewEventTypes()
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxPayloadBytes <= 0 {
		c.MaxPayloadBytes = DefaultMaxPayloadBytes
	}
	if c.MaxBatchEvents <= 0 {
		c.MaxBatchEvents = DefaultMaxBatchEvents
	}
	if c.MaxWebhooks == 0 {
		c.MaxWebhooks = DefaultMaxWebhooks
	}
	if c.RateLimit == 0 {
		c.RateLimit = DefaultRateLimit
	}
	if c.RateBurst <= 0 {
		c.RateBurst = max(DefaultRateBurst, int(2*c.RateLimit))
	}
	return c
}

func (c Config) validate() error {
	switch {
	case c.Store == nil:
		return errors.New("httpapi: Config.Store is required")
	case c.Sender == nil:
		return errors.New("httpapi: Config.Sender is required")
	case c.Engine == nil:
		return errors.New("httpapi: Config.Engine is required")
	}
	return nil
}

// Server is herald's HTTP API.
type Server struct {
	cfg        Config
	requireKey atomic.Bool  // from Config.RequireAPIKey, then RequireAPIKeys
	limiter    *rateLimiter // nil without a rate limit
	handler    http.Handler
}

// RequireAPIKeys makes every later /api/v1 request present a working API
// key, as Config.RequireAPIKey does from the start: cmd/herald calls it
// when the first key is created while herald runs open. There is no way
// back short of a restart, so revoking keys never opens herald up.
func (s *Server) RequireAPIKeys() { s.requireKey.Store(true) }

// New returns a Server.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, limiter: newRateLimiter(cfg.RateLimit, cfg.RateBurst, cfg.Now)}
	s.requireKey.Store(cfg.RequireAPIKey)
	s.handler = s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	for _, prefix := range []string{"", "/api/v1"} {
		mux.HandleFunc("GET "+prefix+"/health", s.handleHealth)
		mux.HandleFunc("GET "+prefix+"/ready", s.handleReady)
	}
	if s.cfg.Metrics != nil {
		mux.Handle("GET /metrics", s.cfg.Metrics.Handler())
	}
	api := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		var handler http.Handler = h
		if method == http.MethodPost {
			handler = s.idempotent(handler)
		}
		mux.Handle(method+" /api/v1"+path, s.authenticate(s.rateLimit(handler)))
	}
	api("POST /webhooks", s.handleRegisterWebhook)
	api("GET /webhooks", s.handleListWebhooks)
	api("GET /webhooks/stats", s.handleWebhookStats)
	api("GET /webhooks/{id}", s.handleGetWebhook)
	api("PATCH /webhooks/{id}", s.handleUpdateWebhook)
	api("DELETE /webhooks/{id}", s.handleDeleteWebhook)
	api("POST /webhooks/{id}/test", s.handleTestWebhook)
	api("GET /webhooks/{id}/deliveries", s.handleListDeliveries)
	api("POST /webhooks/{id}/deliveries/{delivery_id}/retry", s.handleRetryDelivery)
	api("POST /webhooks/{id}/recover", s.handleRecoverWebhook)
	api("POST /events", s.handlePublishEvent)
	api("POST /events/batch", s.handlePublishEvents)
	api("GET /events/{id}", s.handleGetEvent)
	api("GET /event-types", s.handleEventTypes)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, herald.NotFoundf("no route for %s %s", r.Method, r.URL.Path))
	})
	h := s.recoverPanics(s.withRequestID(s.limitBody(mux)))
	if s.cfg.Metrics != nil {
		h = s.cfg.Metrics.Requests(h)
	}
	return h
}

type callerKey struct{}

// authenticate resolves the caller's tenant from its API key. Another
// tenant's ids then answer 404 exactly like unknown ones, because every
// store call is scoped by the tenant found here.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tenant, hash := DefaultTenant, ""
		if s.requireKey.Load() {
			key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || key == "" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="herald"`)
				s.writeError(w, r, herald.Errorf(herald.CodeUnauthorized, "an API key is required: send Authorization: Bearer <key>"))
				return
			}
			var err error
			hash = herald.HashAPIKey(strings.TrimSpace(key))
			if tenant, err = s.cfg.Store.TenantForAPIKey(r.Context(), hash); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="herald", error="invalid_token"`)
				s.writeError(w, r, err)
				return
			}
		}
		ctx := context.WithValue(r.Context(), callerKey{}, caller{tenant: tenant, keyHash: hash})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// caller is who sent a request: its tenant and, with API keys, its key.
type caller struct {
	tenant  string
	keyHash string
}

func tenantOf(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(caller)
	return c.tenant
}

// rateKeyOf is what a request's rate limit is counted against: its API
// key, or its tenant in open mode.
func rateKeyOf(ctx context.Context) string {
	c, _ := ctx.Value(callerKey{}).(caller)
	if c.keyHash != "" {
		return c.keyHash
	}
	return "tenant:" + c.tenant
}

// limitBody bounds every request body: publishes by the payload limit
// (a batch by MaxBatchEvents payloads), everything else by MaxBodyBytes.
func (s *Server) limitBody(next http.Handler) http.Handler {
	const envelope = 64 << 10 // room for the JSON around the data
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		limit := s.cfg.MaxBodyBytes
		switch r.URL.Path {
		case "/api/v1/events":
			limit = max(limit, s.cfg.MaxPayloadBytes+envelope)
		case "/api/v1/events/batch":
			limit = max(limit, min(int64(s.cfg.MaxBatchEvents)*s.cfg.MaxPayloadBytes, 64<<20)+envelope)
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// withRequestID echoes the caller's X-Request-ID, or a new one; a
// metadata.request_id in the body replaces it when the body is decoded.
func (s *Server) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := sanitizeRequestID(r.Header.Get(requestIDHeader))
		if id == "" {
			id = newRequestID()
		}
		w.Header().Set(requestIDHeader, id)
		next.ServeHTTP(w, r)
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil && v != http.ErrAbortHandler {
				s.cfg.Logger.ErrorContext(r.Context(), "panic serving request", "path", r.URL.Path, "panic", v)
				s.writeError(w, r, errors.New("panic"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

func newRequestID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return "req_" + hex.EncodeToString(b)
}

// sanitizeRequestID keeps a caller's id only if it is short and printable,
// so it cannot forge log lines or headers.
func sanitizeRequestID(id string) string {
	if len(id) > 128 {
		return ""
	}
	for _, c := range []byte(id) {
		if c < 0x21 || c > 0x7e {
			return ""
		}
	}
	return id
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, types.Health{
		Status:    "healthy",
		Timestamp: s.cfg.Now().UTC().Format(time.RFC3339),
		Version:   s.cfg.Version,
	})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	ready := types.Readiness{
		Status:    "ready",
		Timestamp: s.cfg.Now().UTC().Format(time.RFC3339),
		Checks:    map[string]string{"database": "ok"},
	}
	status := http.StatusOK
	if err := s.cfg.Store.Ping(ctx); err != nil {
		s.cfg.Logger.WarnContext(ctx, "store not ready", "err", err)
		ready.Status, ready.Checks["database"] = "not ready", "unreachable"
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, ready)
}
