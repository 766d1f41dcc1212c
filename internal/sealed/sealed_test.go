package sealed_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/sealed"
	"github.com/heraldhq/herald/internal/sqlite"
	"github.com/heraldhq/herald/internal/storetest"
)

var (
	keyA = base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	keyB = hex.EncodeToString([]byte("fedcba9876543210fedcba9876543210"))
)

func mustKeys(t *testing.T, s string) *sealed.Keys {
	t.Helper()
	k, err := sealed.ParseKeys(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func openSQLite(t *testing.T) herald.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "herald.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestStore: the wrapped store behaves exactly as a store must.
func TestStore(t *testing.T) {
	keys := mustKeys(t, keyA)
	storetest.Run(t, func(t *testing.T) herald.Store { return sealed.Wrap(openSQLite(t), keys) })
}

func TestParseKeys(t *testing.T) {
	if k, err := sealed.ParseKeys(" "); k != nil || err != nil {
		t.Fatalf("empty: %v, %v; want no keys and no error", k, err)
	}
	if _, err := sealed.ParseKeys(keyA + ", " + keyB); err != nil {
		t.Fatalf("base64 and hex keys: %v", err)
	}
	for _, bad := range []string{"short", base64.StdEncoding.EncodeToString(make([]byte, 16)), keyA + ",nope"} {
		_, err := sealed.ParseKeys(bad)
		if err == nil || !strings.Contains(err.Error(), "32 random bytes") {
			t.Errorf("ParseKeys(%q) = %v, want an error naming the format", bad, err)
		}
	}
}

func webhook(id, secret string) *herald.Webhook {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	return &herald.Webhook{ID: id, TenantID: "acme", URL: "https://example.com/", Events: []string{"*"},
		Secret: secret, RetryPolicy: herald.DefaultRetryPolicy(), Active: true, MaxInFlight: 10, CreatedAt: now, UpdatedAt: now}
}

// TestSecretsAreSealedAtRest: the underlying store holds no plaintext
// secret, rotation seals both secrets, and callers see plaintext.
func TestSecretsAreSealedAtRest(t *testing.T) {
	ctx := context.Background()
	raw := openSQLite(t)
	s := sealed.Wrap(raw, mustKeys(t, keyA))
	const secret = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
	if err := s.CreateWebhook(ctx, webhook("wh_1", secret), 0); err != nil {
		t.Fatal(err)
	}
	stored, _ := raw.GetWebhook(ctx, "acme", "wh_1")
	if !strings.HasPrefix(stored.Secret, "sealed:v1:") || strings.Contains(stored.Secret, secret) {
		t.Fatalf("stored secret %q is not sealed", stored.Secret)
	}
	got, err := s.GetWebhook(ctx, "acme", "wh_1")
	if err != nil || got.Secret != secret {
		t.Fatalf("GetWebhook secret = %q, %v; want the plaintext", got.Secret, err)
	}
	const next = "rotated-secret-0123456789"
	updated, err := s.UpdateWebhook(ctx, "acme", "wh_1", func(w *herald.Webhook) error {
		herald.WebhookUpdate{Secret: ptr(next)}.Apply(w, time.Now())
		return nil
	})
	if err != nil || updated.Secret != next || updated.PreviousSecret != secret {
		t.Fatalf("UpdateWebhook = %q/%q, %v; want the new and previous plaintext", updated.Secret, updated.PreviousSecret, err)
	}
	stored, _ = raw.GetWebhook(ctx, "acme", "wh_1")
	if !strings.HasPrefix(stored.Secret, "sealed:v1:") || !strings.HasPrefix(stored.PreviousSecret, "sealed:v1:") {
		t.Fatalf("after rotation the store holds %q and %q", stored.Secret, stored.PreviousSecret)
	}
	list, _, err := s.ListWebhooks(ctx, "acme", herald.WebhookFilter{Limit: 10})
	if err != nil || list[0].Secret != next {
		t.Fatalf("ListWebhooks secret = %v, %v", list, err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestMissingOrWrongKey: a sealed secret with no key or the wrong key is
// a clear error from every read and from Prepare, never a wrong
// signature.
func TestMissingOrWrongKey(t *testing.T) {
	ctx := context.Background()
	raw := openSQLite(t)
	if err := sealed.Wrap(raw, mustKeys(t, keyA)).CreateWebhook(ctx, webhook("wh_1", "secret-0123456789abcdef"), 0); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		keys *sealed.Keys
		want string
	}{
		"no key":    {nil, "has no HERALD_ENCRYPTION_KEY"},
		"wrong key": {mustKeys(t, keyB), "does not hold the key"},
	} {
		s := sealed.Wrap(raw, tc.keys)
		_, err := s.GetWebhook(ctx, "acme", "wh_1")
		if herald.ErrorCodeOf(err) != herald.CodeUnavailable || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: GetWebhook error %v, want CodeUnavailable saying %q", name, err, tc.want)
		}
		if strings.Contains(err.Error(), "secret-0123456789abcdef") {
			t.Errorf("%s: the error shows the secret", name)
		}
		if _, err := s.Prepare(ctx, []string{"acme"}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Prepare = %v, want a refusal saying %q", name, err, tc.want)
		}
	}
}

// TestPrepareSealsAndRotates: secrets stored before a key was set are
// sealed at start, and a new first key reseals what the old one sealed.
func TestPrepareSealsAndRotates(t *testing.T) {
	ctx := context.Background()
	raw := openSQLite(t)
	if err := raw.CreateWebhook(ctx, webhook("wh_1", "plain-secret-0123456789"), 0); err != nil {
		t.Fatal(err)
	}
	n, err := sealed.Wrap(raw, mustKeys(t, keyA)).Prepare(ctx, []string{"acme", "nobody"})
	if err != nil || n != 1 {
		t.Fatalf("Prepare with a first key = %d, %v; want 1 sealed", n, err)
	}
	// Rotation: the new key first, the old one still listed.
	if n, err := sealed.Wrap(raw, mustKeys(t, keyB+","+keyA)).Prepare(ctx, []string{"acme"}); err != nil || n != 1 {
		t.Fatalf("Prepare after rotation = %d, %v; want 1 resealed", n, err)
	}
	if n, err := sealed.Wrap(raw, mustKeys(t, keyB+","+keyA)).Prepare(ctx, []string{"acme"}); err != nil || n != 0 {
		t.Fatalf("Prepare again = %d, %v; want nothing to do", n, err)
	}
	got, err := sealed.Wrap(raw, mustKeys(t, keyB)).GetWebhook(ctx, "acme", "wh_1")
	if err != nil || got.Secret != "plain-secret-0123456789" {
		t.Fatalf("with the new key alone: %v, %v", got, err)
	}
}

// TestSealedValueIsBoundToItsWebhook: a sealed secret copied into another
// webhook's row does not open there.
func TestSealedValueIsBoundToItsWebhook(t *testing.T) {
	keys := mustKeys(t, keyA)
	v := keys.Seal("secret-0123456789abcdef", "wh_1")
	ctx := context.Background()
	raw := openSQLite(t)
	if err := raw.CreateWebhook(ctx, webhook("wh_2", v), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := sealed.Wrap(raw, keys).GetWebhook(ctx, "acme", "wh_2"); herald.ErrorCodeOf(err) != herald.CodeUnavailable {
		t.Fatalf("a secret moved to another webhook opened: %v", err)
	}
}

// TestIdempotentAnswersAreSealed: a replayable register answer, which
// holds the new secret, is stored sealed and replayed in plaintext.
func TestIdempotentAnswersAreSealed(t *testing.T) {
	ctx := context.Background()
	raw := openSQLite(t)
	s := sealed.Wrap(raw, mustKeys(t, keyA))
	now := time.Now()
	body := []byte(`{"data":{"secret":"whsec_secret"}}`)
	if rec, err := s.BeginIdempotent(ctx, "acme", "k1", "fp", now); rec != nil || err != nil {
		t.Fatalf("BeginIdempotent = %v, %v", rec, err)
	}
	if err := s.CompleteIdempotent(ctx, "acme", "k1", 201, body); err != nil {
		t.Fatal(err)
	}
	stored, err := raw.BeginIdempotent(ctx, "acme", "k1", "fp", now)
	if err != nil || strings.Contains(string(stored.Body), "whsec_secret") {
		t.Fatalf("stored answer = %q, %v; want it sealed", stored.Body, err)
	}
	rec, err := s.BeginIdempotent(ctx, "acme", "k1", "fp", now)
	if err != nil || string(rec.Body) != string(body) || rec.StatusCode != 201 {
		t.Fatalf("replayed answer = %+v, %v", rec, err)
	}
}
