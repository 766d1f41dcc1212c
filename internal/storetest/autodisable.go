package storetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

// attempt records one attempt of job at at, with DisableAfter span.
func attempt(t *testing.T, s herald.Store, job *herald.Job, code int, at time.Time, span time.Duration) {
	t.Helper()
	r := herald.AttemptResult{
		Job:           job,
		Attempt:       herald.Attempt{AttemptedAt: at, StatusCode: code},
		Status:        herald.DeliveryPending,
		NextAttemptAt: at.Add(time.Minute),
		DisableAfter:  span,
	}
	if code < 200 || code > 299 {
		r.Attempt.Error = "endpoint answered an error"
	} else {
		r.Status, r.NextAttemptAt = herald.DeliverySucceeded, time.Time{}
	}
	if err := s.RecordAttempts(context.Background(), []herald.AttemptResult{r}); err != nil {
		t.Fatalf("RecordAttempts: %v", err)
	}
}

func mustGet(t *testing.T, s herald.Store, tenant, id string) *herald.Webhook {
	t.Helper()
	w, err := s.GetWebhook(context.Background(), tenant, id)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// testAutoDisableAfterSpan: a run of failures is timed from its first
// failure, a success ends it, and a run as long as the span deactivates
// the webhook with a reason; reactivating clears it all.
func testAutoDisableAfterSpan(t *testing.T, s herald.Store) {
	const span = time.Hour
	w := mustCreate(t, s, newWebhook("acme", 1))
	job := publish(t, s, "acme", "batch.failed", "", t0).Deliveries[0]

	attempt(t, s, job, 500, t0, span)
	attempt(t, s, job, 503, t0.Add(30*time.Minute), span)
	if got := mustGet(t, s, "acme", w.ID); !got.FailingSince.Equal(t0) || !got.Active {
		t.Fatalf("after two failures: failing since %v, active %v; want %v, true", got.FailingSince, got.Active, t0)
	}
	attempt(t, s, job, 200, t0.Add(40*time.Minute), span)
	if got := mustGet(t, s, "acme", w.ID); !got.FailingSince.IsZero() {
		t.Fatalf("a success left failing since %v", got.FailingSince)
	}
	restart := t0.Add(50 * time.Minute)
	attempt(t, s, job, 500, restart, span)
	attempt(t, s, job, 500, restart.Add(span-time.Second), span)
	if got := mustGet(t, s, "acme", w.ID); !got.Active {
		t.Fatalf("deactivated before the span was up: %q", got.DisabledReason)
	}
	end := restart.Add(span)
	attempt(t, s, job, 500, end, span)
	got := mustGet(t, s, "acme", w.ID)
	if got.Active || !strings.Contains(got.DisabledReason, "failed for 1 hour") || !got.DisabledAt.Equal(end) || !got.FailingSince.Equal(restart) {
		t.Fatalf("after failing for the span: active %v, reason %q, at %v, failing since %v",
			got.Active, got.DisabledReason, got.DisabledAt, got.FailingSince)
	}
	if got.SuccessCount != 1 || got.ErrorCount != 5 {
		t.Fatalf("counters %d/%d, want 1/5", got.SuccessCount, got.ErrorCount)
	}
	// The run of failures ended by reactivation.
	active := true
	got, err := s.UpdateWebhook(context.Background(), "acme", w.ID, func(w *herald.Webhook) error {
		herald.WebhookUpdate{Active: &active}.Apply(w, end.Add(time.Minute))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got = mustGet(t, s, "acme", w.ID)
	if !got.Active || got.DisabledReason != "" || !got.DisabledAt.IsZero() || !got.FailingSince.IsZero() {
		t.Fatalf("after reactivation: %+v", got)
	}
}

// testAutoDisableOnGone: a 410 deactivates at once; with no span set,
// failures alone never do.
func testAutoDisableOnGone(t *testing.T, s herald.Store) {
	w := mustCreate(t, s, newWebhook("acme", 1))
	job := publish(t, s, "acme", "batch.failed", "", t0).Deliveries[0]
	attempt(t, s, job, 500, t0, 0)
	attempt(t, s, job, 500, t0.Add(30*24*time.Hour), 0)
	if got := mustGet(t, s, "acme", w.ID); !got.Active {
		t.Fatalf("deactivated without a span: %q", got.DisabledReason)
	}
	gone := t0.Add(31 * 24 * time.Hour)
	attempt(t, s, job, 410, gone, 0)
	got := mustGet(t, s, "acme", w.ID)
	if got.Active || !strings.Contains(got.DisabledReason, "410") || !got.DisabledAt.Equal(gone) {
		t.Fatalf("after a 410: active %v, reason %q, at %v", got.Active, got.DisabledReason, got.DisabledAt)
	}
	// Attempts recorded after the deactivation (sends that were in
	// flight) keep the first reason and time.
	attempt(t, s, job, 500, gone.Add(time.Second), time.Hour)
	if again := mustGet(t, s, "acme", w.ID); again.DisabledReason != got.DisabledReason || !again.DisabledAt.Equal(gone) {
		t.Fatalf("a later attempt changed the reason to %q at %v", again.DisabledReason, again.DisabledAt)
	}
}
