// Package heraldtest starts a real herald for tests: the HTTP API on a
// loopback port over a real SQLite file.
//
// It imports the internal packages it wires together and the testing
// package; only tests import it.
package heraldtest

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/sqlite"
)

// Options adjust the herald a test starts.
type Options struct {
	// AllowPrivateTargets lets sends reach loopback receivers. Tests of
	// the SSRF guard leave it false.
	AllowPrivateTargets bool
	// DBPath is the SQLite file or postgres:// URL. Required by Start;
	// NewServer defaults it to DB(t).
	DBPath string
	// Sender overrides the sender's configuration.
	Sender delivery.SenderConfig
	// Engine overrides the engine's configuration; Store and Sender are
	// filled in.
	Engine delivery.EngineConfig
	// APIKeys, by tenant, are created and required when not empty.
	APIKeys map[string]string
	// API overrides the API's configuration; Store, Sender, Engine and
	// RequireAPIKey are filled in.
	API httpapi.Config
}

// Server is a running herald.
type Server struct {
	URL    string
	Store  herald.Store
	Engine *delivery.Engine
	http   *httptest.Server

	stopListening func()
}

func asPostgres(s herald.Store) *postgres.Store {
	pg, _ := s.(*postgres.Store)
	return pg
}

// Start starts a herald; Close stops it.
func Start(opts Options) (*Server, error) {
	if opts.DBPath == "" {
		return nil, errors.New("heraldtest: Options.DBPath is required")
	}
	var (
		store herald.Store
		err   error
	)
	pg := postgres.IsURL(opts.DBPath)
	if pg {
		store, err = postgres.Open(context.Background(), opts.DBPath)
	} else {
		store, err = sqlite.Open(context.Background(), opts.DBPath)
	}
	if err != nil {
		return nil, err
	}
	opts.Sender.AllowPrivateTargets = opts.AllowPrivateTargets
	sender := delivery.NewSender(opts.Sender)
	m := metrics.New("test")
	m.WatchBacklog(store.Backlog)
	opts.Engine.Store, opts.Engine.Sender, opts.Engine.SoleProcess, opts.Engine.Observer = store, sender, !pg, m
	engine, err := delivery.NewEngine(opts.Engine)
	if err == nil {
		err = engine.Start(context.Background())
	}
	if err != nil {
		store.Close()
		return nil, err
	}
	for tenant, key := range opts.APIKeys {
		err := store.CreateAPIKey(context.Background(), &herald.APIKey{ID: "key_" + tenant, TenantID: tenant,
			Hash: herald.HashAPIKey(key), Hint: herald.APIKeyHint(key), CreatedAt: time.Now()})
		if err != nil {
			store.Close()
			return nil, err
		}
	}
	cfg := opts.API
	cfg.Store, cfg.Sender, cfg.Engine, cfg.RequireAPIKey, cfg.Metrics = store, sender, engine, len(opts.APIKeys) > 0, m
	if cfg.Version == "" {
		cfg.Version = "test"
	}
	api, err := httpapi.New(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	srv := httptest.NewServer(api)
	s := &Server{URL: srv.URL, Store: store, Engine: engine, http: srv, stopListening: func() {}}
	if pg := asPostgres(store); pg != nil {
		ctx, cancel := context.WithCancel(context.Background())
		s.stopListening = cancel
		go pg.Listen(ctx, engine.Wake)
	}
	return s, nil
}

// Close stops the server and the engine and closes the store.
func (s *Server) Close() {
	s.stopListening()
	s.http.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.Engine.Stop(ctx)
	s.Store.Close()
}

// NewServer starts a herald that stops when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.DBPath == "" {
		opts.DBPath = DB(t)
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatalf("start herald: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}
