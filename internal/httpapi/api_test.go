package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/heraldtest"
)

// answer is a decoded API answer.
type answer struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// data returns the "data" object of a success answer.
func (a answer) data(t testing.TB) map[string]any {
	t.Helper()
	d, ok := a.body["data"].(map[string]any)
	if !ok {
		t.Fatalf("answer has no data object: %d %s", a.status, a.raw)
	}
	return d
}

// apiError returns the "error" object of an error answer.
func (a answer) apiError(t testing.TB) map[string]any {
	t.Helper()
	e, ok := a.body["error"].(map[string]any)
	if !ok {
		t.Fatalf("answer has no error object: %d %s", a.status, a.raw)
	}
	return e
}

// call sends one request to herald; header pairs follow the body.
func call(t testing.TB, method, url, body string, header ...string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	json.Unmarshal(raw, &a.body)
	return a
}

func wantStatus(t testing.TB, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Fatalf("status = %d, want %d; body %s", a.status, want, a.raw)
	}
}

// wantError checks an error answer's status and field, and returns its
// message.
func wantError(t *testing.T, a answer, status int, field string) string {
	t.Helper()
	wantStatus(t, a, status)
	e := a.apiError(t)
	if e["field"] != field {
		t.Fatalf("error field = %v, want %q; body %s", e["field"], field, a.raw)
	}
	msg, _ := e["message"].(string)
	return msg
}

// newServer starts a herald whose sends may reach loopback receivers.
func newServer(t *testing.T) (api string, srv *heraldtest.Server) {
	t.Helper()
	srv = heraldtest.NewServer(t, heraldtest.Options{AllowPrivateTargets: true})
	return srv.URL + "/api/v1", srv
}

// register registers a webhook from a config JSON and returns its id.
func register(t testing.TB, api, config string) string {
	t.Helper()
	a := call(t, "POST", api+"/webhooks", `{"config":`+config+`}`)
	wantStatus(t, a, http.StatusCreated)
	return a.data(t)["webhook_id"].(string)
}

func TestHealthAndReady(t *testing.T) {
	t.Parallel()
	_, srv := newServer(t)
	for _, path := range []string{"/health", "/api/v1/health"} {
		a := call(t, "GET", srv.URL+path, "")
		wantStatus(t, a, http.StatusOK)
		if a.body["status"] != "healthy" || a.body["version"] != "test" || a.body["timestamp"] == nil {
			t.Errorf("GET %s = %s", path, a.raw)
		}
	}
	a := call(t, "GET", srv.URL+"/ready", "")
	wantStatus(t, a, http.StatusOK)
	if checks, _ := a.body["checks"].(map[string]any); checks["database"] != "ok" {
		t.Errorf("GET /ready = %s", a.raw)
	}
	srv.Store.Close()
	a = call(t, "GET", srv.URL+"/ready", "")
	wantStatus(t, a, http.StatusServiceUnavailable)
	if checks, _ := a.body["checks"].(map[string]any); checks["database"] == "ok" {
		t.Errorf("GET /ready with the store closed = %s", a.raw)
	}
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	a := call(t, "GET", api+"/nothing-here", "")
	wantStatus(t, a, http.StatusNotFound)
	if a.apiError(t)["code"] != "not_found" {
		t.Fatalf("unknown route: %s", a.raw)
	}
}

func TestRequestID(t *testing.T) {
	t.Parallel()
	api, _ := newServer(t)
	a := call(t, "GET", api+"/webhooks", "")
	if !strings.HasPrefix(a.header.Get("X-Request-ID"), "req_") {
		t.Errorf("generated X-Request-ID = %q", a.header.Get("X-Request-ID"))
	}
	a = call(t, "GET", api+"/webhooks", "", "X-Request-ID", "caller-42")
	if got := a.header.Get("X-Request-ID"); got != "caller-42" {
		t.Errorf("echoed X-Request-ID = %q, want caller-42", got)
	}
	a = call(t, "POST", api+"/webhooks", `{"config":{"url":"https://example.com/h","events":["*"]},
		"metadata":{"request_id":"meta-7","protocol_version":"2.0","client_version":"1.0",
		"client_id":"c","client_type":"sdk","timestamp":1,"custom_headers":{"a":"b"}}}`)
	wantStatus(t, a, http.StatusCreated)
	if got := a.header.Get("X-Request-ID"); got != "meta-7" {
		t.Errorf("X-Request-ID from metadata = %q, want meta-7", got)
	}
	if _, ok := a.body["metadata"]; ok {
		t.Errorf("answer carries a top-level metadata object: %s", a.raw)
	}
}
