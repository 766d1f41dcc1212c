// Package storetest is the conformance suite every herald.Store passes.
// A store's own test calls Run with a function that opens a fresh, empty
// store.
//
// It imports the herald domain and the testing package.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// OpenFunc opens a fresh, empty store that is closed when t ends.
type OpenFunc func(t *testing.T) herald.Store

// Run runs every conformance test against stores made by open.
func Run(t *testing.T, open OpenFunc) {
	tests := map[string]func(*testing.T, herald.Store){
		"CreateAndGetWebhook":            testCreateAndGetWebhook,
		"GetUnknownWebhook":              testGetUnknownWebhook,
		"ListWebhooksNewestFirst":        testListWebhooksNewestFirst,
		"ListWebhooksActiveOnly":         testListWebhooksActiveOnly,
		"UpdateWebhook":                  testUpdateWebhook,
		"UpdateWebhookAbortsOnError":     testUpdateWebhookAbortsOnError,
		"DeleteWebhook":                  testDeleteWebhook,
		"TenantIsolation":                testTenantIsolation,
		"RecordWebhookUseIsExact":        testRecordWebhookUseIsExact,
		"WebhookStats":                   testWebhookStats,
		"IdempotencyLifecycle":           testIdempotencyLifecycle,
		"IdempotencyKeysExpire":          testIdempotencyKeysExpire,
		"IdempotencyKeysArePerTenant":    testIdempotencyKeysArePerTenant,
		"ConcurrentIdempotencyOneWinner": testConcurrentIdempotencyOneWinner,
		"APIKeys":                        testAPIKeys,
		"WebhookCapIsExact":              testWebhookCapIsExact,
	}
	for name, test := range deliveryTests {
		tests[name] = test
	}
	for name, test := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, open(t))
		})
	}
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// newWebhook returns a valid webhook; n makes its id and time unique.
func newWebhook(tenant string, n int) *herald.Webhook {
	at := t0.Add(time.Duration(n) * time.Second)
	return &herald.Webhook{
		ID:          fmt.Sprintf("wh_%s_%03d", tenant, n),
		TenantID:    tenant,
		URL:         fmt.Sprintf("https://example.com/hooks/%d", n),
		Events:      []string{"template.completed", "batch.*"},
		Secret:      "webhook-secret-123",
		RetryPolicy: herald.DefaultRetryPolicy(),
		Headers:     map[string]string{"X-Team": "core"},
		Active:      true,
		Description: "hook",
		MaxInFlight: herald.DefaultMaxInFlight,
		CreatedAt:   at,
		UpdatedAt:   at,
	}
}

func mustCreate(t *testing.T, s herald.Store, w *herald.Webhook) *herald.Webhook {
	t.Helper()
	if err := s.CreateWebhook(context.Background(), w, 0); err != nil {
		t.Fatalf("CreateWebhook(%s): %v", w.ID, err)
	}
	return w
}

func wantCode(t *testing.T, err error, want herald.ErrorCode) {
	t.Helper()
	if got := herald.ErrorCodeOf(err); err == nil || got != want {
		t.Fatalf("error = %v (code %q), want code %q", err, got, want)
	}
}

func testCreateAndGetWebhook(t *testing.T, s herald.Store) {
	ctx := context.Background()
	want := newWebhook("acme", 1)
	want.PreviousSecret = "old-secret-0123456789"
	want.PreviousSecretExpiresAt = t0.Add(24 * time.Hour)
	want.RetryPolicy = herald.RetryPolicy{MaxRetries: 3, InitialDelay: 1500 * time.Millisecond, MaxDelay: 30 * time.Second, BackoffFactor: 1.5}
	mustCreate(t, s, want)
	got, err := s.GetWebhook(ctx, "acme", want.ID)
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("GetWebhook =\n%+v\nwant\n%+v", got, want)
	}
	wantCode(t, s.CreateWebhook(ctx, newWebhook("acme", 1), 0), herald.CodeConflict)
}

func testGetUnknownWebhook(t *testing.T, s herald.Store) {
	_, err := s.GetWebhook(context.Background(), "acme", "wh_nope")
	wantCode(t, err, herald.CodeNotFound)
}

func ids(list []*herald.Webhook) []string {
	out := []string{}
	for _, w := range list {
		out = append(out, w.ID)
	}
	return out
}

func testListWebhooksNewestFirst(t *testing.T, s herald.Store) {
	for n := 1; n <= 5; n++ {
		mustCreate(t, s, newWebhook("acme", n))
	}
	list, total, err := s.ListWebhooks(context.Background(), "acme", herald.WebhookFilter{Limit: 2, Offset: 1})
	if err != nil {
		t.Fatalf("ListWebhooks: %v", err)
	}
	if want := []string{"wh_acme_004", "wh_acme_003"}; !reflect.DeepEqual(ids(list), want) || total != 5 {
		t.Fatalf("ListWebhooks = %v, total %d; want %v, total 5", ids(list), total, want)
	}
}

func testListWebhooksActiveOnly(t *testing.T, s herald.Store) {
	for n := 1; n <= 4; n++ {
		w := newWebhook("acme", n)
		w.Active = n%2 == 0
		mustCreate(t, s, w)
	}
	list, total, err := s.ListWebhooks(context.Background(), "acme", herald.WebhookFilter{ActiveOnly: true, Limit: 10})
	if err != nil {
		t.Fatalf("ListWebhooks: %v", err)
	}
	if want := []string{"wh_acme_004", "wh_acme_002"}; !reflect.DeepEqual(ids(list), want) || total != 2 {
		t.Fatalf("ListWebhooks(active only) = %v, total %d; want %v, total 2", ids(list), total, want)
	}
}

func testUpdateWebhook(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	if err := s.RecordWebhookUse(ctx, "acme", w.ID, true, t0); err != nil {
		t.Fatalf("RecordWebhookUse: %v", err)
	}
	later := t0.Add(time.Hour)
	_, err := s.UpdateWebhook(ctx, "acme", w.ID, func(w *herald.Webhook) error {
		url, active, secret := "https://example.com/new", false, "new-secret-0123456789"
		herald.WebhookUpdate{URL: &url, Active: &active, Secret: &secret}.Apply(w, later)
		// Counters written here must be ignored: RecordWebhookUse owns them.
		w.SuccessCount = 99
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	got, err := s.GetWebhook(ctx, "acme", w.ID)
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	switch {
	case got.URL != "https://example.com/new" || got.Active:
		t.Fatalf("after update url=%q active=%v, want new url and inactive", got.URL, got.Active)
	case got.Secret != "new-secret-0123456789" || got.PreviousSecret != "webhook-secret-123":
		t.Fatalf("after rotation secret=%q previous=%q", got.Secret, got.PreviousSecret)
	case !got.PreviousSecretExpiresAt.Equal(later.Add(herald.SecretRotationOverlap)):
		t.Fatalf("previous secret expires %v, want %v", got.PreviousSecretExpiresAt, later.Add(herald.SecretRotationOverlap))
	case !got.UpdatedAt.Equal(later) || got.SuccessCount != 1:
		t.Fatalf("updated_at=%v success=%d, want %v and 1", got.UpdatedAt, got.SuccessCount, later)
	}
}

func testUpdateWebhookAbortsOnError(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	boom := errors.New("boom")
	_, err := s.UpdateWebhook(ctx, "acme", w.ID, func(w *herald.Webhook) error {
		w.URL = "https://example.com/changed"
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateWebhook error = %v, want %v", err, boom)
	}
	got, _ := s.GetWebhook(ctx, "acme", w.ID)
	if got.URL != w.URL {
		t.Fatalf("URL after aborted update = %q, want %q", got.URL, w.URL)
	}
	_, err = s.UpdateWebhook(ctx, "acme", "wh_nope", func(*herald.Webhook) error { return nil })
	wantCode(t, err, herald.CodeNotFound)
}

func testDeleteWebhook(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	if err := s.DeleteWebhook(ctx, "acme", w.ID); err != nil {
		t.Fatalf("DeleteWebhook: %v", err)
	}
	_, err := s.GetWebhook(ctx, "acme", w.ID)
	wantCode(t, err, herald.CodeNotFound)
	wantCode(t, s.DeleteWebhook(ctx, "acme", w.ID), herald.CodeNotFound)
}

func testTenantIsolation(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	_, err := s.GetWebhook(ctx, "globex", w.ID)
	wantCode(t, err, herald.CodeNotFound)
	_, err = s.UpdateWebhook(ctx, "globex", w.ID, func(*herald.Webhook) error { return nil })
	wantCode(t, err, herald.CodeNotFound)
	wantCode(t, s.DeleteWebhook(ctx, "globex", w.ID), herald.CodeNotFound)
	wantCode(t, s.RecordWebhookUse(ctx, "globex", w.ID, true, t0), herald.CodeNotFound)
	list, total, err := s.ListWebhooks(ctx, "globex", herald.WebhookFilter{Limit: 10})
	if err != nil || len(list) != 0 || total != 0 {
		t.Fatalf("other tenant's list = %v, %d, %v; want empty", ids(list), total, err)
	}
	st, err := s.WebhookStats(ctx, "globex")
	if err != nil || st.TotalWebhooks != 0 {
		t.Fatalf("other tenant's stats = %+v, %v; want zero", st, err)
	}
	if _, err := s.GetWebhook(ctx, "acme", w.ID); err != nil {
		t.Fatalf("owner lost its webhook: %v", err)
	}
}

func testRecordWebhookUseIsExact(t *testing.T, s herald.Store) {
	ctx := context.Background()
	w := mustCreate(t, s, newWebhook("acme", 1))
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.RecordWebhookUse(ctx, "acme", w.ID, i%4 != 0, t0.Add(time.Duration(i)*time.Second)); err != nil {
				t.Errorf("RecordWebhookUse: %v", err)
			}
		}()
	}
	wg.Wait()
	got, err := s.GetWebhook(ctx, "acme", w.ID)
	if err != nil {
		t.Fatalf("GetWebhook: %v", err)
	}
	if got.SuccessCount != 30 || got.ErrorCount != 10 {
		t.Fatalf("counts = %d/%d, want 30/10", got.SuccessCount, got.ErrorCount)
	}
	// last_used_at keeps the latest attempt even if an older one is
	// recorded after it.
	if want := t0.Add((n - 1) * time.Second); !got.LastUsedAt.Equal(want) {
		t.Fatalf("LastUsedAt = %v, want %v", got.LastUsedAt, want)
	}
}

func testWebhookStats(t *testing.T, s herald.Store) {
	for n := 1; n <= 3; n++ {
		w := newWebhook("acme", n)
		w.Active = n != 2
		mustCreate(t, s, w)
	}
	st, err := s.WebhookStats(context.Background(), "acme")
	if err != nil {
		t.Fatalf("WebhookStats: %v", err)
	}
	if want := (herald.WebhookStats{TotalWebhooks: 3, ActiveWebhooks: 2}); *st != want {
		t.Fatalf("WebhookStats = %+v, want %+v", *st, want)
	}
}

func testIdempotencyLifecycle(t *testing.T, s herald.Store) {
	ctx := context.Background()
	rec, err := s.BeginIdempotent(ctx, "acme", "k1", "fp", t0)
	if err != nil || rec != nil {
		t.Fatalf("first Begin = %+v, %v; want nil, nil", rec, err)
	}
	rec, err = s.BeginIdempotent(ctx, "acme", "k1", "fp", t0)
	if err != nil || rec == nil || rec.Done {
		t.Fatalf("Begin while running = %+v, %v; want a record not done", rec, err)
	}
	if err := s.CompleteIdempotent(ctx, "acme", "k1", 201, []byte(`{"ok":true}`)); err != nil {
		t.Fatalf("CompleteIdempotent: %v", err)
	}
	rec, err = s.BeginIdempotent(ctx, "acme", "k1", "fp", t0.Add(time.Minute))
	if err != nil || rec == nil || !rec.Done || rec.StatusCode != 201 || string(rec.Body) != `{"ok":true}` || rec.Fingerprint != "fp" {
		t.Fatalf("Begin after completion = %+v, %v; want the stored answer", rec, err)
	}
	if err := s.ReleaseIdempotent(ctx, "acme", "k1"); err != nil {
		t.Fatalf("ReleaseIdempotent: %v", err)
	}
	if rec, err := s.BeginIdempotent(ctx, "acme", "k1", "fp2", t0); err != nil || rec != nil {
		t.Fatalf("Begin after release = %+v, %v; want nil, nil", rec, err)
	}
}

func testIdempotencyKeysExpire(t *testing.T, s herald.Store) {
	ctx := context.Background()
	if _, err := s.BeginIdempotent(ctx, "acme", "k1", "fp", t0); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteIdempotent(ctx, "acme", "k1", 201, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	rec, err := s.BeginIdempotent(ctx, "acme", "k1", "fp-new", t0.Add(herald.IdempotencyTTL+time.Second))
	if err != nil || rec != nil {
		t.Fatalf("Begin after TTL = %+v, %v; want the key free again", rec, err)
	}
}

func testIdempotencyKeysArePerTenant(t *testing.T, s herald.Store) {
	ctx := context.Background()
	if _, err := s.BeginIdempotent(ctx, "acme", "k1", "fp", t0); err != nil {
		t.Fatal(err)
	}
	if rec, err := s.BeginIdempotent(ctx, "globex", "k1", "fp", t0); err != nil || rec != nil {
		t.Fatalf("other tenant's Begin = %+v, %v; want nil, nil", rec, err)
	}
}

func testConcurrentIdempotencyOneWinner(t *testing.T, s herald.Store) {
	ctx := context.Background()
	const n = 16
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		winners int
	)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec, err := s.BeginIdempotent(ctx, "acme", "race", "fp", t0)
			if err != nil {
				t.Errorf("BeginIdempotent: %v", err)
				return
			}
			if rec == nil {
				mu.Lock()
				winners++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if winners != 1 {
		t.Fatalf("%d callers claimed the same key, want 1", winners)
	}
}

// testWebhookCapIsExact: racing creates never take a tenant past its cap,
// and another tenant's webhooks do not count against it.
func testWebhookCapIsExact(t *testing.T, s herald.Store) {
	ctx := context.Background()
	mustCreate(t, s, newWebhook("other", 1))
	const limit, racers = 5, 20
	var wg sync.WaitGroup
	errs := make([]error, racers)
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.CreateWebhook(ctx, newWebhook("acme", i+1), limit)
		}()
	}
	wg.Wait()
	created := 0
	for _, err := range errs {
		switch {
		case err == nil:
			created++
		case herald.ErrorCodeOf(err) != herald.CodeConflict:
			t.Fatalf("CreateWebhook over the cap: %v, want CodeConflict", err)
		}
	}
	_, total, err := s.ListWebhooks(ctx, "acme", herald.WebhookFilter{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if created != limit || total != limit {
		t.Fatalf("%d creates succeeded and %d webhooks exist, want exactly %d", created, total, limit)
	}
}
