package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/heraldtest"
	"github.com/heraldhq/herald/internal/httpapi"
)

// checkAnswer holds every answer to hostile input to the API's promises:
// a 4xx (or the expected success), never a 5xx, and a JSON body of
// either {"data": ...} or {"error": {code, type, message}}.
func checkAnswer(t *testing.T, a answer, ok int) {
	t.Helper()
	if a.status >= 500 {
		t.Fatalf("status %d; body %s", a.status, a.raw)
	}
	var body struct {
		Data  json.RawMessage `json:"data"`
		Error *struct {
			Code, Type, Message, Field string
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(a.raw), &body); err != nil {
		t.Fatalf("status %d with a body that is not JSON (%v): %q", a.status, err, a.raw)
	}
	switch {
	case a.status == ok:
		if body.Data == nil {
			t.Fatalf("success without data: %s", a.raw)
		}
	case a.status >= 400:
		if body.Error == nil || body.Error.Code == "" || body.Error.Type == "" || body.Error.Message == "" {
			t.Fatalf("status %d without a complete error: %s", a.status, a.raw)
		}
	default:
		t.Fatalf("status %d, want %d or a 4xx; body %s", a.status, ok, a.raw)
	}
}

// fuzzOptions lift the rate limit and the webhook cap, so every input
// reaches decoding and validation, and give names no DNS: fuzzing must
// not depend on, or flood, the network.
var fuzzOptions = heraldtest.Options{
	API:    httpapi.Config{RateLimit: -1, MaxWebhooks: -1},
	Sender: delivery.SenderConfig{Resolver: noDNS},
}

var noDNS = &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
	return nil, errors.New("no DNS while fuzzing")
}}

// FuzzWebhookRequests sends arbitrary bodies to register and update: each
// is decoded, validated and answered, never a 5xx.
func FuzzWebhookRequests(f *testing.F) {
	f.Add(`{"config":{"url":"https://example.com/hook","events":["*"]}}`)
	f.Add(`{"config":{"url":"https://example.com/h","events":["template.*","batch.failed"],"secret":"0123456789abcdef",` +
		`"retry_policy":{"max_retries":5,"initial_delay":1000,"max_delay":60000,"backoff_factor":2},` +
		`"headers":{"X-Team":"core"},"active":false,"description":"d","max_in_flight":3},"metadata":{"request_id":"r1"}}`)
	f.Add(`{"config":{"url":"http://169.254.169.254/","events":["*"]}}`)
	f.Add(`{"config":{"url":"ftp://x","events":[]}}`)
	f.Add(`{"config":{"url":"https://x","events":["*"],"headers":{"Host":"evil","webhook-id":"x"}}}`)
	f.Add(`{"config":{"retry_policy":{"max_retries":-1,"backoff_factor":1e308}}}`)
	f.Add(`{"config":{"url":"https://[::ffff:127.0.0.1]:0/","events":["a.*.b"]}}`)
	f.Add(`{"config":null}`)
	f.Add(`{"config":{"url":1}}`)
	f.Add(`{"config":{}} trailing`)
	f.Add(`[`)
	f.Add(``)
	srv := heraldtest.NewServer(f, fuzzOptions)
	api := srv.URL + "/api/v1"
	id := register(f, api, `{"url":"https://example.com/","events":["*"]}`)
	f.Fuzz(func(t *testing.T, body string) {
		checkAnswer(t, call(t, "POST", api+"/webhooks", body), http.StatusCreated)
		checkAnswer(t, call(t, "PATCH", api+"/webhooks/"+id, body), http.StatusOK)
	})
}

// FuzzPublishRequests sends arbitrary bodies to publish and batch publish.
func FuzzPublishRequests(f *testing.F) {
	f.Add(`{"event":"batch.failed","data":{"n":1}}`)
	f.Add(`{"event":"template.completed","data":[1,2,3],"idempotency_key":"k"}`)
	f.Add(`{"events":[{"event":"batch.failed"},{"event":"batch.completed","data":null}]}`)
	f.Add(`{"event":"nope.nope"}`)
	f.Add(`{"event":"batch.failed","data":"` + strings.Repeat("x", 1000) + `"}`)
	f.Add(`{"events":[]}`)
	f.Add(`{"event":"batch.failed","data":{"a":1}, "extra":true}`)
	f.Add(`{"event":"batch.failed","data":{"a":1}}{}`)
	f.Add(`{"event":"batch.failed","data":1e999}`)
	srv := heraldtest.NewServer(f, fuzzOptions)
	api := srv.URL + "/api/v1"
	f.Fuzz(func(t *testing.T, body string) {
		checkAnswer(t, call(t, "POST", api+"/events", body), http.StatusAccepted)
		checkAnswer(t, call(t, "POST", api+"/events/batch", body), http.StatusAccepted)
	})
}
