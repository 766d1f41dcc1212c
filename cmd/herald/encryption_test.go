package main_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/heraldtest"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/verify"
)

// openRaw opens a database herald used, without herald in between.
func openRaw(t *testing.T, db string) herald.Store {
	t.Helper()
	var (
		s   herald.Store
		err error
	)
	if postgres.IsURL(db) {
		s, err = postgres.Open(context.Background(), db)
	} else {
		s, err = sqlite.Open(context.Background(), db)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSecretsEncryptedAtRest: with HERALD_ENCRYPTION_KEY the database
// holds no plaintext secret, deliveries are still signed with it, and a
// restart without the key refuses to start, saying why.
func TestSecretsEncryptedAtRest(t *testing.T) {
	t.Parallel()
	const (
		key    = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
		secret = "whsec_dGhpcy1pcy1hLXZlcnktc2VjcmV0LWtleQ=="
	)
	verifier, err := verify.NewVerifier(secret)
	if err != nil {
		t.Fatal(err)
	}
	var verified atomic.Int64
	rc := httptest.NewServer(verify.Middleware(verifier, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		verified.Add(1)
	})))
	t.Cleanup(rc.Close)

	db := heraldtest.DB(t)
	withKey := []string{"HERALD_ENCRYPTION_KEY=" + key}
	p := startHerald(t, withKey, "--db", db, "--allow-private-targets", "--log-level", "debug")
	reg := decode[struct {
		WebhookID string `json:"webhook_id"`
	}](t, cli(t, p.addr, "webhooks", "register",
		"--url", rc.URL, "--events", "*", "--secret", secret, "--json"))
	if out := cli(t, p.addr, "webhooks", "test", reg.WebhookID); !strings.Contains(out, "success") || verified.Load() != 1 {
		t.Fatalf("test send with an encrypted secret:\n%s(verified %d)", out, verified.Load())
	}
	p.stop(t)
	if strings.Contains(p.logs.String(), secret) || strings.Contains(p.logs.String(), key) {
		t.Fatalf("herald logged the secret or the key:\n%s", p.logs.String())
	}

	stored, err := openRaw(t, db).GetWebhook(context.Background(), "default", reg.WebhookID)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored.Secret, secret) || !strings.HasPrefix(stored.Secret, "sealed:") {
		t.Fatalf("the database holds the secret as %q", stored.Secret)
	}

	out, err := exec.Command(heraldBin, "serve", "--addr", "127.0.0.1:0", "--db", db).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "HERALD_ENCRYPTION_KEY") || strings.Contains(string(out), secret) {
		t.Fatalf("serve without the key: err=%v\n%s\nwant a refusal naming HERALD_ENCRYPTION_KEY", err, out)
	}

	p = startHerald(t, withKey, "--db", db, "--allow-private-targets")
	if out := cli(t, p.addr, "webhooks", "test", reg.WebhookID); !strings.Contains(out, "success") || verified.Load() != 2 {
		t.Fatalf("test send after restart:\n%s", out)
	}
}
