package httpapi_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dnstest"
	"github.com/heraldhq/herald/internal/heraldtest"
)

const seedConfig = `{"url":"https://myapp.com/webhook",
	"events":["template.completed","template.failed","batch.completed"],
	"secret":"webhook-secret-123",
	"retry_policy":{"max_retries":3,"initial_delay":1000,"max_delay":30000,"backoff_factor":2.0},
	"active":true,"description":"Webhook for async operations"}`

func TestRegisterAndGet(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	a := call(t, "POST", api+"/webhooks", `{"config":`+seedConfig+`}`)
	wantStatus(t, a, http.StatusCreated)
	d := a.data(t)
	id, _ := d["webhook_id"].(string)
	if !strings.HasPrefix(id, "wh_") || d["status"] != "registered" || d["secret"] != "webhook-secret-123" {
		t.Fatalf("register answer = %s", a.raw)
	}

	a = call(t, "GET", api+"/webhooks/"+id, "")
	wantStatus(t, a, http.StatusOK)
	if strings.Contains(a.raw, "webhook-secret-123") || strings.Contains(a.raw, `"secret"`) {
		t.Fatalf("GET answer shows the secret: %s", a.raw)
	}
	got := a.data(t)
	cfg := got["config"].(map[string]any)
	rp := cfg["retry_policy"].(map[string]any)
	switch {
	case got["id"] != id || cfg["url"] != "https://myapp.com/webhook" || cfg["active"] != true:
		t.Fatalf("GET = %s", a.raw)
	case rp["max_retries"] != 3.0 || rp["initial_delay"] != 1000.0 || rp["max_delay"] != 30000.0 || rp["backoff_factor"] != 2.0:
		t.Fatalf("retry policy = %v", rp)
	case got["created_at"].(float64) == 0 || got["last_used_at"] != 0.0 || got["success_count"] != 0.0:
		t.Fatalf("times and counters = %s", a.raw)
	}
}

func TestRegisterDefaults(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	a := call(t, "POST", api+"/webhooks", `{"config":{"url":"https://example.com/h","events":["batch.*"],"retry_policy":{"max_retries":5}}}`)
	wantStatus(t, a, http.StatusCreated)
	d := a.data(t)
	if secret, _ := d["secret"].(string); !strings.HasPrefix(secret, "whsec_") || len(secret) < 40 {
		t.Fatalf("generated secret = %q, want a whsec_ secret", secret)
	}
	got := call(t, "GET", api+"/webhooks/"+d["webhook_id"].(string), "").data(t)
	cfg := got["config"].(map[string]any)
	rp := cfg["retry_policy"].(map[string]any)
	if cfg["active"] != true || cfg["max_in_flight"] != 10.0 {
		t.Fatalf("a missing active must mean true: %v", cfg)
	}
	if rp["max_retries"] != 5.0 || rp["initial_delay"] != 5000.0 || rp["max_delay"] != 3600000.0 || rp["backoff_factor"] != 2.0 {
		t.Fatalf("missing retry fields must take defaults: %v", rp)
	}

	id := register(t, api, `{"url":"https://example.com/h","events":["*"],"active":false}`)
	cfg = call(t, "GET", api+"/webhooks/"+id, "").data(t)["config"].(map[string]any)
	if cfg["active"] != false {
		t.Fatalf("explicit active false registered %v", cfg["active"])
	}
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	tests := []struct {
		name, body string
		status     int
		field      string
		message    string
	}{
		{"missing config", `{}`, 400, "config", "required"},
		{"missing url", `{"config":{"events":["*"]}}`, 400, "config.url", "required"},
		{"relative url", `{"config":{"url":"/x","events":["*"]}}`, 400, "config.url", "absolute"},
		{"ftp url", `{"config":{"url":"ftp://example.com","events":["*"]}}`, 400, "config.url", "http or https"},
		{"long url", `{"config":{"url":"https://example.com/` + strings.Repeat("a", 2048) + `","events":["*"]}}`, 400, "config.url", "2048"},
		{"no events", `{"config":{"url":"https://example.com","events":[]}}`, 400, "config.events", "at least one"},
		{"unknown event", `{"config":{"url":"https://example.com","events":["order.created"]}}`, 400, "config.events", "batch.completed, batch.failed, template.completed, template.failed"},
		{"short secret", `{"config":{"url":"https://example.com","events":["*"],"secret":"short"}}`, 400, "config.secret", "16 bytes"},
		{"retries", `{"config":{"url":"https://example.com","events":["*"],"retry_policy":{"max_retries":51}}}`, 400, "config.retry_policy.max_retries", "0 and 50"},
		{"initial delay", `{"config":{"url":"https://example.com","events":["*"],"retry_policy":{"initial_delay":50}}}`, 400, "config.retry_policy.initial_delay", "between 100"},
		{"max delay", `{"config":{"url":"https://example.com","events":["*"],"retry_policy":{"initial_delay":5000,"max_delay":1000}}}`, 400, "config.retry_policy.max_delay", "at least initial_delay"},
		{"max delay over a day", `{"config":{"url":"https://example.com","events":["*"],"retry_policy":{"max_delay":86400001}}}`, 400, "config.retry_policy.max_delay", "86400000"},
		{"factor", `{"config":{"url":"https://example.com","events":["*"],"retry_policy":{"backoff_factor":11}}}`, 400, "config.retry_policy.backoff_factor", "between 1 and 10"},
		{"signature header", `{"config":{"url":"https://example.com","events":["*"],"headers":{"webhook-id":"x"}}}`, 400, "config.headers.webhook-id", "webhook-*"},
		{"content-type header", `{"config":{"url":"https://example.com","events":["*"],"headers":{"Content-Type":"x"}}}`, 400, "config.headers.Content-Type", "cannot be overridden"},
		{"host header", `{"config":{"url":"https://example.com","events":["*"],"headers":{"host":"x"}}}`, 400, "config.headers.host", "cannot be overridden"},
		{"hop-by-hop header", `{"config":{"url":"https://example.com","events":["*"],"headers":{"Connection":"close"}}}`, 400, "config.headers.Connection", "cannot be overridden"},
		{"description", `{"config":{"url":"https://example.com","events":["*"],"description":"` + strings.Repeat("d", 1025) + `"}}`, 400, "config.description", "1024"},
		{"unknown field", `{"config":{"url":"https://example.com","events":["*"],"colour":"red"}}`, 400, "colour", "unknown field"},
		{"wrong type", `{"config":{"url":42,"events":["*"]}}`, 400, "config.url", "must be a string"},
		{"malformed", `{"config":`, 400, "", "malformed JSON"},
		{"not json", `hello`, 400, "", "malformed JSON"},
		{"trailing data", `{"config":{"url":"https://example.com","events":["*"]}} {}`, 400, "", "nothing after it"},
		{"too large", `{"config":{"url":"https://example.com","events":["*"],"description":"` + strings.Repeat("d", 1<<20) + `"}}`, 413, "", "at most 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, "POST", api+"/webhooks", tt.body)
			wantStatus(t, a, tt.status)
			e := a.apiError(t)
			field, _ := e["field"].(string)
			if field != tt.field || !strings.Contains(e["message"].(string), tt.message) || e["type"] != "invalid_request_error" {
				t.Fatalf("error = %v, want field %q and a message containing %q", e, tt.field, tt.message)
			}
		})
	}
	if total := call(t, "GET", api+"/webhooks", "").data(t)["total"]; total != 0.0 {
		t.Fatalf("rejected registrations created %v webhooks", total)
	}
}

func TestListWebhooks(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	var ids []string
	for i := range 5 {
		active := i != 1
		ids = append(ids, register(t, api, fmt.Sprintf(`{"url":"https://example.com/%d","events":["*"],"active":%v}`, i, active)))
	}
	a := call(t, "GET", api+"/webhooks", "")
	wantStatus(t, a, http.StatusOK)
	d := a.data(t)
	list := d["webhooks"].([]any)
	if len(list) != 5 || d["total"] != 5.0 || d["limit"] != 20.0 || d["offset"] != 0.0 {
		t.Fatalf("list = %s", a.raw)
	}
	if list[0].(map[string]any)["id"] != ids[4] || list[4].(map[string]any)["id"] != ids[0] {
		t.Fatalf("list is not newest first: %s", a.raw)
	}
	if strings.Contains(a.raw, `"secret"`) {
		t.Fatalf("list shows secrets: %s", a.raw)
	}
	d = call(t, "GET", api+"/webhooks?limit=2&offset=1", "").data(t)
	list = d["webhooks"].([]any)
	if len(list) != 2 || list[0].(map[string]any)["id"] != ids[3] || d["total"] != 5.0 || d["limit"] != 2.0 {
		t.Fatalf("page = %v", d)
	}
	d = call(t, "GET", api+"/webhooks?active_only=true", "").data(t)
	if d["total"] != 4.0 {
		t.Fatalf("active_only total = %v, want 4", d["total"])
	}
	for query, field := range map[string]string{"limit=101": "limit", "limit=x": "limit", "offset=-1": "offset", "active_only=maybe": "active_only"} {
		a := call(t, "GET", api+"/webhooks?"+query, "")
		wantStatus(t, a, http.StatusBadRequest)
		if a.apiError(t)["field"] != field {
			t.Errorf("?%s: %s", query, a.raw)
		}
	}
}

func TestUpdateWebhook(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	id := register(t, api, seedConfig)
	a := call(t, "PATCH", api+"/webhooks/"+id, `{"config":{"description":"changed","active":false,"retry_policy":{"max_retries":7}}}`)
	wantStatus(t, a, http.StatusOK)
	cfg := a.data(t)["config"].(map[string]any)
	rp := cfg["retry_policy"].(map[string]any)
	switch {
	case cfg["description"] != "changed" || cfg["active"] != false:
		t.Fatalf("PATCH did not apply: %v", cfg)
	case cfg["url"] != "https://myapp.com/webhook" || len(cfg["events"].([]any)) != 3:
		t.Fatalf("PATCH changed fields it was not given: %v", cfg)
	case rp["max_retries"] != 7.0 || rp["initial_delay"] != 1000.0 || rp["max_delay"] != 30000.0:
		t.Fatalf("retry fields not given must stay: %v", rp)
	}
	a = call(t, "PATCH", api+"/webhooks/"+id, `{"config":{"events":["nope"]}}`)
	wantStatus(t, a, http.StatusBadRequest)
	if a.apiError(t)["field"] != "config.events" {
		t.Fatalf("invalid PATCH: %s", a.raw)
	}
	wantStatus(t, call(t, "PATCH", api+"/webhooks/"+id, `{}`), http.StatusBadRequest)
	wantStatus(t, call(t, "PATCH", api+"/webhooks/wh_nope", `{"config":{"description":"x"}}`), http.StatusNotFound)
	// The failed PATCH changed nothing.
	cfg = call(t, "GET", api+"/webhooks/"+id, "").data(t)["config"].(map[string]any)
	if len(cfg["events"].([]any)) != 3 {
		t.Fatalf("rejected PATCH changed the events: %v", cfg)
	}
}

func TestDeleteWebhook(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	id := register(t, api, seedConfig)
	a := call(t, "DELETE", api+"/webhooks/"+id, "")
	wantStatus(t, a, http.StatusOK)
	if d := a.data(t); d["webhook_id"] != id || d["status"] != "deleted" {
		t.Fatalf("DELETE = %s", a.raw)
	}
	for _, method := range []string{"GET", "DELETE"} {
		a := call(t, method, api+"/webhooks/"+id, "")
		wantStatus(t, a, http.StatusNotFound)
		if e := a.apiError(t); e["code"] != "not_found" || e["type"] != "invalid_request_error" {
			t.Fatalf("%s after delete: %s", method, a.raw)
		}
	}
	wantStatus(t, call(t, "POST", api+"/webhooks/"+id+"/test", ""), http.StatusNotFound)
}

func TestWebhookStats(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	register(t, api, seedConfig)
	register(t, api, `{"url":"https://example.com","events":["*"],"active":false}`)
	a := call(t, "GET", api+"/webhooks/stats", "")
	wantStatus(t, a, http.StatusOK)
	d := a.data(t)
	if d["total_webhooks"] != 2.0 || d["active_webhooks"] != 1.0 || d["total_deliveries"] != 0.0 ||
		d["successful_deliveries"] != 0.0 || d["failed_deliveries"] != 0.0 {
		t.Fatalf("stats = %s", a.raw)
	}
}

// receiver records what herald sends it.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	bodies   [][]byte
	status   int
}

func newReceiver(t *testing.T, status int) *receiver {
	rc := &receiver{status: status}
	rc.Server = newServerFunc(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		rc.mu.Lock()
		status := rc.status
		rc.mu.Unlock()
		w.WriteHeader(status)
	}, rc)
	return rc
}

// newServerFunc starts a receiver that records each request in rc, then
// lets answer respond; n counts earlier requests.
func newServerFunc(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int), rc *receiver) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		n := len(rc.requests)
		rc.requests, rc.bodies = append(rc.requests, r), append(rc.bodies, b)
		rc.mu.Unlock()
		answer(w, r, n)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (rc *receiver) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.requests)
}

func TestTestWebhookSignsAndCounts(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	rc := newReceiver(t, http.StatusNoContent)
	id := register(t, api, `{"url":"`+rc.URL+`/hook","events":["batch.*"],"secret":"webhook-secret-123","headers":{"X-Team":"core"}}`)

	a := call(t, "POST", api+"/webhooks/"+id+"/test", `{"event":"batch.completed","data":{"test":true}}`)
	wantStatus(t, a, http.StatusOK)
	d := a.data(t)
	if d["status"] != "success" || d["response_code"] != 204.0 || d["webhook_id"] != id {
		t.Fatalf("test answer = %s", a.raw)
	}
	if rc.count() != 1 {
		t.Fatalf("receiver got %d requests, want 1", rc.count())
	}
	req, body := rc.requests[0], rc.bodies[0]
	official, _ := standardwebhooks.NewWebhookRaw([]byte("webhook-secret-123"))
	if err := official.Verify(body, req.Header); err != nil {
		t.Fatalf("official Standard Webhooks library rejects the test send: %v", err)
	}
	if req.Header.Get("X-Team") != "core" || req.Header.Get("Content-Type") != "application/json" ||
		!strings.HasPrefix(req.Header.Get("User-Agent"), "herald/") {
		t.Fatalf("headers = %v", req.Header)
	}
	if !strings.Contains(string(body), `"event":"batch.completed"`) || !strings.Contains(string(body), `"data":{"test":true}`) {
		t.Fatalf("body = %s", body)
	}

	// No body: the webhook's first subscribed type, empty data.
	a = call(t, "POST", api+"/webhooks/"+id+"/test", "")
	wantStatus(t, a, http.StatusOK)
	if !strings.Contains(string(rc.bodies[1]), `"event":"batch.completed"`) {
		t.Fatalf("default test event body = %s", rc.bodies[1])
	}

	rc.mu.Lock()
	rc.status = http.StatusInternalServerError
	rc.mu.Unlock()
	d = call(t, "POST", api+"/webhooks/"+id+"/test", `{}`).data(t)
	if d["status"] != "failed" || d["response_code"] != 500.0 || d["error"] != "endpoint answered HTTP 500" {
		t.Fatalf("failed test answer = %v", d)
	}
	info := call(t, "GET", api+"/webhooks/"+id, "").data(t)
	if info["success_count"] != 2.0 || info["error_count"] != 1.0 || info["last_used_at"].(float64) == 0 {
		t.Fatalf("counters after tests = %v", info)
	}

	for body, field := range map[string]string{`{"event":"order.created"}`: "event", `{"data":[1]}`: "data"} {
		a := call(t, "POST", api+"/webhooks/"+id+"/test", body)
		wantStatus(t, a, http.StatusBadRequest)
		if a.apiError(t)["field"] != field {
			t.Errorf("test with %s: %s", body, a.raw)
		}
	}
}

func TestTestWebhookSignsWithBothSecretsDuringRotation(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	rc := newReceiver(t, http.StatusOK)
	id := register(t, api, `{"url":"`+rc.URL+`","events":["*"],"secret":"old-secret-0123456789"}`)
	newSecret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	wantStatus(t, call(t, "PATCH", api+"/webhooks/"+id, `{"config":{"secret":"`+newSecret+`"}}`), http.StatusOK)
	wantStatus(t, call(t, "POST", api+"/webhooks/"+id+"/test", ""), http.StatusOK)

	req, body := rc.requests[0], rc.bodies[0]
	if n := len(strings.Fields(req.Header.Get("webhook-signature"))); n != 2 {
		t.Fatalf("webhook-signature has %d signatures, want 2", n)
	}
	oldLib, _ := standardwebhooks.NewWebhookRaw([]byte("old-secret-0123456789"))
	newLib, _ := standardwebhooks.NewWebhook(newSecret)
	if err := oldLib.Verify(body, req.Header); err != nil {
		t.Errorf("old secret no longer verifies during rotation: %v", err)
	}
	if err := newLib.Verify(body, req.Header); err != nil {
		t.Errorf("new secret does not verify: %v", err)
	}
}

func TestRegisterRefusesLiteralPrivateTargets(t *testing.T) {
	t.Parallel()
	api := heraldtest.NewServer(t, heraldtest.Options{}).URL + "/api/v1" // no --allow-private-targets
	for url, reason := range map[string]string{
		"http://169.254.169.254/latest/meta-data": "link-local",
		"http://127.0.0.1:9000/hook":              "loopback",
		"http://localhost:9000/hook":              "loopback",
		"http://[::1]/hook":                       "loopback",
		"http://[::ffff:10.0.0.1]/hook":           "private",
		"https://[fd00:ec2::254]/":                "private",
		"http://100.64.1.1/":                      "CGNAT",
		"http://0.0.0.0:8080/":                    "unspecified",
	} {
		res := call(t, "POST", api+"/webhooks", `{"config":{"url":"`+url+`","events":["*"]}}`)
		if msg := wantError(t, res, http.StatusBadRequest, "url"); !strings.Contains(msg, reason) || !strings.Contains(msg, "--allow-private-targets") {
			t.Errorf("register %s: message %q, want the reason %q and the flag", url, msg, reason)
		}
	}
	id := register(t, api, `{"url":"https://93.184.215.14/hook","events":["*"]}`)
	res := call(t, "PATCH", api+"/webhooks/"+id, `{"config":{"url":"http://10.1.2.3/"}}`)
	wantError(t, res, http.StatusBadRequest, "url")
}

// TestRegisterRefusesNamesResolvingInside: a name that resolves to a
// refused address is refused at registration and on a PATCH, naming what
// it resolves to; a name that does not resolve yet is accepted (sends
// check the connected address anyway: see the delivery tests).
func TestRegisterRefusesNamesResolvingInside(t *testing.T) {
	t.Parallel()
	dns := dnstest.NewServer(t)
	dns.Set("inside.test", netip.MustParseAddr("10.1.2.3"))
	dns.Set("outside.test", netip.MustParseAddr("93.184.215.14"))
	srv := heraldtest.NewServer(t, heraldtest.Options{Sender: delivery.SenderConfig{Resolver: dns.Resolver()}})
	api := srv.URL + "/api/v1"
	res := call(t, "POST", api+"/webhooks", `{"config":{"url":"https://inside.test/hook","events":["*"]}}`)
	if msg := wantError(t, res, http.StatusBadRequest, "url"); !strings.Contains(msg, "inside.test resolves to 10.1.2.3, a private address") ||
		!strings.Contains(msg, "--allow-private-targets") {
		t.Errorf("register a name resolving inside: %q, want the name, its address, the reason and the flag", msg)
	}
	id := register(t, api, `{"url":"https://outside.test/hook","events":["*"]}`)
	wantError(t, call(t, "PATCH", api+"/webhooks/"+id, `{"config":{"url":"https://inside.test/"}}`), http.StatusBadRequest, "url")
	register(t, api, `{"url":"https://not-yet.test/x","events":["*"]}`)
}

func TestAllowTargets(t *testing.T) {
	t.Parallel()
	srv := heraldtest.NewServer(t, heraldtest.Options{
		Sender: delivery.SenderConfig{AllowTargets: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
	})
	api := srv.URL + "/api/v1"
	rc := newReceiver(t, http.StatusOK)
	id := register(t, api, `{"url":"`+rc.URL+`","events":["*"]}`)
	if d := call(t, "POST", api+"/webhooks/"+id+"/test", "").data(t); d["status"] != "success" {
		t.Fatalf("test send to an allow-listed range = %v, want success", d)
	}
	res := call(t, "POST", api+"/webhooks", `{"config":{"url":"http://10.0.0.1/","events":["*"]}}`)
	wantError(t, res, http.StatusBadRequest, "url")
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	body := `{"config":` + seedConfig + `}`
	first := call(t, "POST", api+"/webhooks", body, "Idempotency-Key", "key-1")
	wantStatus(t, first, http.StatusCreated)
	again := call(t, "POST", api+"/webhooks", body, "Idempotency-Key", "key-1")
	wantStatus(t, again, http.StatusCreated)
	if again.raw != first.raw || again.header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("replay = %s (replayed %q), want %s", again.raw, again.header.Get("Idempotent-Replayed"), first.raw)
	}
	if total := call(t, "GET", api+"/webhooks", "").data(t)["total"]; total != 1.0 {
		t.Fatalf("%v webhooks after a replayed register, want 1", total)
	}
	other := call(t, "POST", api+"/webhooks", `{"config":{"url":"https://other.example","events":["*"]}}`, "Idempotency-Key", "key-1")
	wantStatus(t, other, http.StatusConflict)
	if other.apiError(t)["field"] != "Idempotency-Key" {
		t.Fatalf("key reuse: %s", other.raw)
	}
	// A rejected request is remembered too: the same bad request gets the
	// same answer.
	bad := `{"config":{"url":"nope","events":["*"]}}`
	wantStatus(t, call(t, "POST", api+"/webhooks", bad, "Idempotency-Key", "key-2"), http.StatusBadRequest)
	wantStatus(t, call(t, "POST", api+"/webhooks", bad, "Idempotency-Key", "key-2"), http.StatusBadRequest)
}

func TestConcurrentIdempotentRegisterCreatesOne(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	body := `{"config":` + seedConfig + `}`
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := call(t, "POST", api+"/webhooks", body, "Idempotency-Key", "race")
			if a.status != http.StatusCreated && a.status != http.StatusConflict {
				t.Errorf("status %d: %s", a.status, a.raw)
			}
		}()
	}
	wg.Wait()
	if total := call(t, "GET", api+"/webhooks", "").data(t)["total"]; total != 1.0 {
		t.Fatalf("%v webhooks from 10 racing copies of one request, want 1", total)
	}
}
