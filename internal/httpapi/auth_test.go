package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/heraldtest"
)

// TestTenantsSeeOnlyTheirOwn: key B can neither see nor touch anything of
// key A's, and gets exactly the answers an unknown id gets.
func TestTenantsSeeOnlyTheirOwn(t *testing.T) {
	t.Parallel()
	keyA, keyB := "hk_tenant-a-key-0123456789abcdef", "hk_tenant-b-key-0123456789abcdef"
	srv := heraldtest.NewServer(t, heraldtest.Options{
		AllowPrivateTargets: true,
		APIKeys:             map[string]string{"a": keyA, "b": keyB},
	})
	api := srv.URL + "/api/v1"
	as := func(key string) []string { return []string{"Authorization", "Bearer " + key} }
	rcA := newReceiver(t, http.StatusOK)
	rcB := newReceiver(t, http.StatusOK)

	a := call(t, "POST", api+"/webhooks", `{"config":{"url":"`+rcA.URL+`","events":["*"]}}`, as(keyA)...)
	wantStatus(t, a, http.StatusCreated)
	idA := a.data(t)["webhook_id"].(string)
	b := call(t, "POST", api+"/webhooks", `{"config":{"url":"`+rcB.URL+`","events":["*"]}}`, as(keyB)...)
	wantStatus(t, b, http.StatusCreated)
	pub := call(t, "POST", api+"/events", `{"event":"batch.failed"}`, as(keyA)...)
	wantStatus(t, pub, http.StatusAccepted)
	eventA := pub.data(t)["event_id"].(string)
	waitFor(t, 5*time.Second, "A's delivery", func() bool { return rcA.count() == 1 })

	for _, req := range []struct{ method, path, body string }{
		{"GET", "/webhooks/" + idA, ""},
		{"PATCH", "/webhooks/" + idA, `{"config":{"description":"mine now"}}`},
		{"POST", "/webhooks/" + idA + "/test", ""},
		{"GET", "/webhooks/" + idA + "/deliveries", ""},
		{"POST", "/webhooks/" + idA + "/recover", `{"since":0}`},
		{"GET", "/events/" + eventA, ""},
		{"DELETE", "/webhooks/" + idA, ""},
	} {
		got := call(t, req.method, api+req.path, req.body, as(keyB)...)
		unknown := call(t, req.method, api+replaceID(req.path, idA, eventA), req.body, as(keyB)...)
		if got.status != http.StatusNotFound || got.apiError(t)["code"] != unknown.apiError(t)["code"] {
			t.Errorf("B: %s %s = %d %s; want the 404 an unknown id gets (%d)", req.method, req.path, got.status, got.raw, unknown.status)
		}
	}
	if l := call(t, "GET", api+"/webhooks", "", as(keyB)...).data(t); l["total"] != 1.0 {
		t.Errorf("B lists %v webhooks, want only its own", l["total"])
	}
	if st := call(t, "GET", api+"/webhooks/stats", "", as(keyB)...).data(t); st["total_deliveries"] != 0.0 {
		t.Errorf("B's stats count A's deliveries: %v", st)
	}
	// B's publish never reaches A's webhook.
	wantStatus(t, call(t, "POST", api+"/events", `{"event":"batch.failed"}`, as(keyB)...), http.StatusAccepted)
	waitFor(t, 5*time.Second, "B's delivery", func() bool { return rcB.count() == 1 })
	if rcA.count() != 1 {
		t.Fatalf("A's receiver got %d requests, want only A's 1", rcA.count())
	}
	// A still has its webhook, unchanged.
	info := call(t, "GET", api+"/webhooks/"+idA, "", as(keyA)...)
	wantStatus(t, info, http.StatusOK)
	if info.data(t)["config"].(map[string]any)["description"] == "mine now" {
		t.Fatal("B changed A's webhook")
	}
}

func replaceID(path, webhookID, eventID string) string {
	return strings.NewReplacer(webhookID, "unknown_id", eventID, "unknown_id").Replace(path)
}

func TestAPIKeyRequired(t *testing.T) {
	t.Parallel()
	key := "hk_the-only-key-0123456789abcdef"
	srv := heraldtest.NewServer(t, heraldtest.Options{APIKeys: map[string]string{"a": key}})
	api := srv.URL + "/api/v1"
	for name, header := range map[string][]string{
		"no header":   nil,
		"not bearer":  {"Authorization", "Basic " + key},
		"unknown key": {"Authorization", "Bearer hk_wrong"},
	} {
		a := call(t, "GET", api+"/webhooks", "", header...)
		if a.status != http.StatusUnauthorized || a.apiError(t)["type"] != "authentication_error" || a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s, want 401 authentication_error with WWW-Authenticate", name, a.status, a.raw)
		}
	}
	wantStatus(t, call(t, "GET", api+"/webhooks", "", "Authorization", "Bearer "+key), http.StatusOK)
	// Health and readiness stay open for probes.
	wantStatus(t, call(t, "GET", srv.URL+"/health", ""), http.StatusOK)
	if err := srv.Store.RevokeAPIKey(context.Background(), "key_a", time.Now()); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, call(t, "GET", api+"/webhooks", "", "Authorization", "Bearer "+key), http.StatusUnauthorized)
}
