// Package heraldtest starts a real herald for tests: the HTTP API on a
// loopback port over a real SQLite file in the test's temporary directory.
//
// It imports the internal packages it wires together and the testing
// package; only tests import it.
package heraldtest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/sqlite"
)

// Options adjust the herald a test starts.
type Options struct {
	// AllowPrivateTargets lets sends reach loopback receivers. Tests of
	// the SSRF guard leave it false.
	AllowPrivateTargets bool
	// DBPath is the SQLite file. Defaults to a file in t.TempDir().
	DBPath string
	// Sender overrides the sender's configuration.
	Sender delivery.SenderConfig
}

// Server is a running herald.
type Server struct {
	URL   string
	Store herald.Store
}

// NewServer starts a herald that stops when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.DBPath == "" {
		opts.DBPath = filepath.Join(t.TempDir(), "herald.db")
	}
	store, err := sqlite.Open(context.Background(), opts.DBPath)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	opts.Sender.AllowPrivateTargets = opts.AllowPrivateTargets
	api, err := httpapi.New(httpapi.Config{
		Store:   store,
		Sender:  delivery.NewSender(opts.Sender),
		Version: "test",
	})
	if err != nil {
		t.Fatalf("new api: %v", err)
	}
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		srv.Close()
		store.Close()
	})
	return &Server{URL: srv.URL, Store: store}
}
