package httpapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald/internal/heraldtest"
	"github.com/heraldhq/herald/internal/httpapi"
)

// TestRateLimitPerKey: a key that spends its burst gets 429 with a
// Retry-After, and another key is not slowed by it. The clock stands
// still, so no token comes back during the test.
func TestRateLimitPerKey(t *testing.T) {
	t.Parallel()
	keyA, keyB := "hk_rate-a-0123456789abcdef", "hk_rate-b-0123456789abcdef"
	frozen := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	srv := heraldtest.NewServer(t, heraldtest.Options{
		APIKeys: map[string]string{"a": keyA, "b": keyB},
		API:     httpapi.Config{RateLimit: 0.5, RateBurst: 3, Now: func() time.Time { return frozen }},
	})
	api := srv.URL + "/api/v1"
	as := func(key string) []string { return []string{"Authorization", "Bearer " + key} }
	for range 3 {
		wantStatus(t, call(t, "GET", api+"/webhooks", "", as(keyA)...), http.StatusOK)
	}
	limited := call(t, "GET", api+"/webhooks", "", as(keyA)...)
	wantStatus(t, limited, http.StatusTooManyRequests)
	if e := limited.apiError(t); e["code"] != "rate_limited" || e["type"] != "rate_limit_error" {
		t.Errorf("429 body = %s, want code rate_limited, type rate_limit_error", limited.raw)
	}
	// One token every 2 s: the next is 2 s away.
	if ra, err := strconv.Atoi(limited.header.Get("Retry-After")); err != nil || ra != 2 {
		t.Errorf("Retry-After = %q, want 2", limited.header.Get("Retry-After"))
	}
	// Refused requests spend nothing, and B has its own bucket.
	wantStatus(t, call(t, "GET", api+"/webhooks", "", as(keyB)...), http.StatusOK)
	// Probes are never limited.
	wantStatus(t, call(t, "GET", srv.URL+"/health", ""), http.StatusOK)
}

func TestWebhookCapPerTenant(t *testing.T) {
	t.Parallel()
	keyA, keyB := "hk_cap-a-0123456789abcdef", "hk_cap-b-0123456789abcdef"
	srv := heraldtest.NewServer(t, heraldtest.Options{
		APIKeys: map[string]string{"a": keyA, "b": keyB},
		API:     httpapi.Config{MaxWebhooks: 2},
	})
	api := srv.URL + "/api/v1"
	as := func(key string) []string { return []string{"Authorization", "Bearer " + key} }
	body := `{"config":{"url":"https://example.com/hook","events":["*"]}}`
	var first string
	for i := range 2 {
		a := call(t, "POST", api+"/webhooks", body, as(keyA)...)
		wantStatus(t, a, http.StatusCreated)
		if i == 0 {
			first = a.data(t)["webhook_id"].(string)
		}
	}
	over := call(t, "POST", api+"/webhooks", body, as(keyA)...)
	wantStatus(t, over, http.StatusConflict)
	if msg := over.apiError(t)["message"].(string); !strings.Contains(msg, "(2)") || !strings.Contains(msg, "--max-webhooks") {
		t.Errorf("cap message %q, want the cap and the flag", msg)
	}
	wantStatus(t, call(t, "POST", api+"/webhooks", body, as(keyB)...), http.StatusCreated)
	wantStatus(t, call(t, "DELETE", api+"/webhooks/"+first, "", as(keyA)...), http.StatusOK)
	wantStatus(t, call(t, "POST", api+"/webhooks", body, as(keyA)...), http.StatusCreated)
}

func TestBatchEventsCap(t *testing.T) {
	t.Parallel()
	srv := heraldtest.NewServer(t, heraldtest.Options{API: httpapi.Config{MaxBatchEvents: 2}})
	api := srv.URL + "/api/v1"
	events := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`{"event":"batch.failed","data":{"n":%d}}`, i)
		}
		return `{"events":[` + strings.Join(parts, ",") + `]}`
	}
	wantStatus(t, call(t, "POST", api+"/events/batch", events(2)), http.StatusAccepted)
	if msg := wantError(t, call(t, "POST", api+"/events/batch", events(3)), http.StatusBadRequest, "events"); !strings.Contains(msg, "at most 2") {
		t.Errorf("batch cap message %q, want it to name the cap", msg)
	}
}
