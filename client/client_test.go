package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/heraldtest"
	"github.com/heraldhq/herald/types"
)

// heraldURL is a herald started for the examples, which cannot take a *testing.T.
var heraldURL string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "herald-client-test")
	if err != nil {
		panic(err)
	}
	srv, err := heraldtest.Start(heraldtest.Options{DBPath: filepath.Join(dir, "herald.db")})
	if err != nil {
		panic(err)
	}
	heraldURL = srv.URL
	code := m.Run()
	srv.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newClient(t *testing.T) (*client.Client, *heraldtest.Server) {
	t.Helper()
	srv := heraldtest.NewServer(t, heraldtest.Options{AllowPrivateTargets: true})
	return client.New(client.Config{BaseURL: srv.URL}), srv
}

func seedRequest(url string) *types.RegisterWebhookRequest {
	return &types.RegisterWebhookRequest{Config: &types.WebhookConfig{
		URL:    url,
		Events: []string{"template.completed", "template.failed", "batch.completed"},
		Secret: "webhook-secret-123",
		RetryPolicy: &types.WebhookRetryPolicy{
			MaxRetries: 3, InitialDelay: 1000, MaxDelay: 30000, BackoffFactor: 2.0,
		},
		Active:      true,
		Description: "Webhook for async operations",
	}}
}

func TestWebhookLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := newClient(t)
	received := make(chan struct{}, 1)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { received <- struct{}{} }))
	defer rc.Close()

	reg, err := c.RegisterWebhook(ctx, seedRequest(rc.URL))
	if err != nil {
		t.Fatalf("RegisterWebhook: %v", err)
	}
	if reg.WebhookID == "" || reg.Status != "registered" || reg.Secret != "webhook-secret-123" {
		t.Fatalf("RegisterWebhook = %+v", reg)
	}
	list, err := c.ListWebhooks(ctx, &types.ListWebhooksRequest{ActiveOnly: true, Limit: 10})
	if err != nil {
		t.Fatalf("ListWebhooks: %v", err)
	}
	if list.Total != 1 || len(list.Webhooks) != 1 || list.Limit != 10 || list.Webhooks[0].ID != reg.WebhookID {
		t.Fatalf("ListWebhooks = %+v", list)
	}
	wh := list.Webhooks[0]
	if wh.Config.URL != rc.URL || !wh.Config.Active || wh.Config.Secret != "" || wh.Config.RetryPolicy.MaxDelay != 30000 {
		t.Fatalf("listed webhook = %+v / %+v", wh, wh.Config)
	}

	test, err := c.TestWebhook(ctx, &types.TestWebhookRequest{
		WebhookID: reg.WebhookID, Event: "template.completed", Data: map[string]interface{}{"test": true},
	})
	if err != nil {
		t.Fatalf("TestWebhook: %v", err)
	}
	<-received
	if test.Status != "success" || test.ResponseCode != 200 || test.WebhookID != reg.WebhookID {
		t.Fatalf("TestWebhook = %+v", test)
	}

	inactive, desc := false, "paused"
	upd, err := c.UpdateWebhook(ctx, &types.UpdateWebhookRequest{WebhookID: reg.WebhookID,
		Config: &types.WebhookConfigUpdate{Active: &inactive, Description: &desc}})
	if err != nil {
		t.Fatalf("UpdateWebhook: %v", err)
	}
	if upd.Config.Active || upd.Config.Description != "paused" || upd.SuccessCount != 1 || upd.LastUsedAt == 0 {
		t.Fatalf("UpdateWebhook = %+v / %+v", upd, upd.Config)
	}
	got, err := c.GetWebhook(ctx, reg.WebhookID)
	if err != nil || got.Config.Description != "paused" {
		t.Fatalf("GetWebhook = %+v, %v", got, err)
	}
	stats, err := c.WebhookStats(ctx)
	if err != nil || stats.TotalWebhooks != 1 || stats.ActiveWebhooks != 0 {
		t.Fatalf("WebhookStats = %+v, %v", stats, err)
	}

	del, err := c.DeleteWebhook(ctx, reg.WebhookID)
	if err != nil || del.WebhookID != reg.WebhookID || del.Status != "deleted" {
		t.Fatalf("DeleteWebhook = %+v, %v", del, err)
	}
	_, err = c.GetWebhook(ctx, reg.WebhookID)
	var apiErr *types.ErrorDetail
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "not_found" {
		t.Fatalf("GetWebhook after delete: %v", err)
	}
}

func TestValidationErrorNamesField(t *testing.T) {
	t.Parallel()
	c, _ := newClient(t)
	req := seedRequest("https://myapp.com/webhook")
	req.Config.Events = []string{"order.created"}
	_, err := c.RegisterWebhook(context.Background(), req)
	var apiErr *types.ErrorDetail
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not a *types.ErrorDetail", err)
	}
	if apiErr.StatusCode != 400 || apiErr.Code != "invalid" || apiErr.Field != "config.events" || apiErr.RequestID == "" {
		t.Fatalf("error = %+v", apiErr)
	}
}

// lossyTransport delivers every request but loses the answer to the first
// POST, as a dropped connection would.
type lossyTransport struct {
	lost atomic.Bool
	keys []string
}

func (l *lossyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	l.keys = append(l.keys, r.Header.Get("Idempotency-Key"))
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && r.Method == http.MethodPost && !l.lost.Swap(true) {
		resp.Body.Close()
		return nil, errors.New("connection reset by peer")
	}
	return resp, err
}

func TestRetriedRegisterCreatesOneWebhook(t *testing.T) {
	t.Parallel()
	srv := heraldtest.NewServer(t, heraldtest.Options{})
	lossy := &lossyTransport{}
	c := client.New(client.Config{BaseURL: srv.URL, HTTPClient: &http.Client{Transport: lossy}})
	reg, err := c.RegisterWebhook(context.Background(), seedRequest("https://myapp.com/webhook"))
	if err != nil {
		t.Fatalf("RegisterWebhook: %v", err)
	}
	if len(lossy.keys) != 2 || lossy.keys[0] == "" || lossy.keys[0] != lossy.keys[1] {
		t.Fatalf("Idempotency-Keys sent = %q, want the same key twice", lossy.keys)
	}
	list, err := c.ListWebhooks(context.Background(), &types.ListWebhooksRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if list.Total != 1 || list.Webhooks[0].ID != reg.WebhookID {
		t.Fatalf("after a retried register: %d webhooks (want 1), answer id %s", list.Total, reg.WebhookID)
	}
}

func TestRetriesUnavailable(t *testing.T) {
	t.Parallel()
	srv := heraldtest.NewServer(t, heraldtest.Options{})
	target, _ := url.Parse(srv.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var calls atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer front.Close()
	c := client.New(client.Config{BaseURL: front.URL})
	if _, err := c.WebhookStats(context.Background()); err != nil {
		t.Fatalf("WebhookStats through two 503s: %v", err)
	}
	never := client.New(client.Config{BaseURL: front.URL, MaxRetries: -1})
	calls.Store(0)
	_, err := never.WebhookStats(context.Background())
	var apiErr *types.ErrorDetail
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 {
		t.Fatalf("with retries off: %v, want the 503", err)
	}
}

func Example() {
	ctx := context.Background()
	c := client.New(client.Config{BaseURL: heraldURL})
	resp, err := c.RegisterWebhook(ctx, &types.RegisterWebhookRequest{
		Config: &types.WebhookConfig{
			URL:    "https://myapp.com/webhook",
			Events: []string{"template.*"},
		},
	})
	if err != nil {
		panic(err)
	}
	info, err := c.GetWebhook(ctx, resp.WebhookID)
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Config.URL, info.Config.Events, info.Config.Active)
	fmt.Println("retries:", info.Config.RetryPolicy.MaxRetries)

	_, err = c.GetWebhook(ctx, "wh_unknown")
	var apiErr *types.ErrorDetail
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
	}
	// Output:
	// https://myapp.com/webhook [template.*] true
	// retries: 18
	// 404 not_found
}
