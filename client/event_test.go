package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/internal/heraldtest"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/types"
)

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPublishAndFollowDeliveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := newClient(t)
	var failing atomic.Bool
	failing.Store(true)
	rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	defer rc.Close()
	req := seedRequest(rc.URL)
	req.Config.RetryPolicy = &types.WebhookRetryPolicy{MaxRetries: 1, InitialDelay: 100, MaxDelay: 100, BackoffFactor: 1}
	reg, err := c.RegisterWebhook(ctx, req)
	if err != nil {
		t.Fatal(err)
	}

	pub, err := c.PublishEvent(ctx, &types.PublishEventRequest{Event: "batch.completed", Data: map[string]any{"batch_id": "b_1"}})
	if err != nil || pub.Deliveries != 1 {
		t.Fatalf("PublishEvent = %+v, %v", pub, err)
	}
	batch, err := c.PublishEvents(ctx, &types.PublishEventsRequest{Events: []*types.PublishEventRequest{
		{Event: "template.failed"}, {Event: "batch.failed", IdempotencyKey: "once"}, {Event: "batch.failed", IdempotencyKey: "once"},
	}})
	if err != nil || len(batch.Events) != 3 || batch.Events[1].Deliveries != 0 || !batch.Events[2].Duplicate ||
		batch.Events[2].EventID != batch.Events[1].EventID {
		t.Fatalf("PublishEvents = %+v, %v", batch, err)
	}

	var failed []*types.DeliveryInfo
	waitFor(t, "the delivery to fail", func() bool {
		list, err := c.ListDeliveries(ctx, &types.ListDeliveriesRequest{WebhookID: reg.WebhookID, Status: "failed"})
		if err != nil {
			t.Fatal(err)
		}
		failed = list.Deliveries
		return len(failed) == 2 // batch.completed and template.failed
	})
	if len(failed[0].AttemptLog) != 2 || failed[0].AttemptLog[0].StatusCode != 502 {
		t.Fatalf("attempt log = %+v", failed[0].AttemptLog)
	}

	failing.Store(false)
	d, err := c.RetryDelivery(ctx, reg.WebhookID, failed[0].ID)
	if err != nil || d.Status != "pending" {
		t.Fatalf("RetryDelivery = %+v, %v", d, err)
	}
	rec, err := c.RecoverWebhook(ctx, &types.RecoverWebhookRequest{WebhookID: reg.WebhookID, Since: time.Now().Add(-time.Hour).Unix()})
	if err != nil || rec.Recovered < 1 {
		t.Fatalf("RecoverWebhook = %+v, %v", rec, err)
	}
	waitFor(t, "both deliveries to succeed", func() bool {
		list, _ := c.ListDeliveries(ctx, &types.ListDeliveriesRequest{WebhookID: reg.WebhookID, Status: "succeeded"})
		return list != nil && list.Total == 2
	})
	ev, err := c.GetEvent(ctx, pub.EventID)
	if err != nil || ev.Event != "batch.completed" || ev.Data["batch_id"] != "b_1" || len(ev.Deliveries) != 1 || ev.Deliveries[0].Status != "succeeded" {
		t.Fatalf("GetEvent = %+v, %v", ev, err)
	}

	_, err = c.PublishEvent(ctx, &types.PublishEventRequest{Event: "order.created"})
	var apiErr *types.ErrorDetail
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Field != "event" {
		t.Fatalf("unknown event: %v", err)
	}
}

func TestListEventTypes(t *testing.T) {
	t.Parallel()
	extra, err := herald.NewEventTypes("order.created")
	if err != nil {
		t.Fatal(err)
	}
	srv := heraldtest.NewServer(t, heraldtest.Options{API: httpapi.Config{EventTypes: extra}})
	c := client.New(client.Config{BaseURL: srv.URL})
	got, err := c.ListEventTypes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(herald.BuiltinEventTypes), "order.created")
	slices.Sort(want)
	have := slices.Sorted(slices.Values(got.EventTypes))
	if !slices.Equal(have, want) {
		t.Fatalf("ListEventTypes = %v, want %v", got.EventTypes, want)
	}
}
