package herald

import (
	"fmt"
	"net/http"
	"slices"
	"time"
)

// DeliveryStatus is where a delivery stands. docs/delivery-states.md draws
// the machine:
//
//	pending ──2xx──────────────────────────▶ succeeded
//	pending ──failure, retries left─────────▶ pending (next_attempt_at later)
//	pending ──failure, no retries left──────▶ failed
//	pending ──webhook deleted───────────────▶ cancelled
//	failed, succeeded ──retry or recover────▶ pending (due now)
//
// A pending delivery of an inactive webhook waits, unclaimed, until the
// webhook is active again.
type DeliveryStatus string

// The delivery statuses.
const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliveryCancelled DeliveryStatus = "cancelled"
)

// ParseDeliveryStatus returns CodeInvalid naming field for an unknown
// status.
func ParseDeliveryStatus(field, s string) (DeliveryStatus, error) {
	switch st := DeliveryStatus(s); st {
	case DeliveryPending, DeliverySucceeded, DeliveryFailed, DeliveryCancelled:
		return st, nil
	}
	return "", Invalidf(field, "must be pending, succeeded, failed or cancelled, got %q", s)
}

// Delivery is one event on its way to one webhook.
type Delivery struct {
	ID        string
	TenantID  string
	EventID   string
	EventType string
	WebhookID string
	Status    DeliveryStatus
	// Attempts is how many sends have been made.
	Attempts       int
	NextAttemptAt  time.Time // when a pending delivery is due
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	// AttemptLog is filled by the calls that say so.
	AttemptLog []Attempt
}

// Attempt is one HTTP send of a delivery.
type Attempt struct {
	N            int // 1-based
	AttemptedAt  time.Time
	StatusCode   int // 0 when no response arrived
	Latency      time.Duration
	Error        string // empty on success
	ResponseBody string // the first MaxResponseBodyLogged bytes
}

// MaxResponseBodyLogged bounds the response body kept per attempt.
const MaxResponseBodyLogged = 4 << 10

// PublishInput is one event to publish, already rendered.
type PublishInput struct {
	Event *Event
	// IdempotencyKey, when set, makes a repeat within IdempotencyTTL
	// return the first event and create nothing.
	IdempotencyKey string
}

// Published is what publishing one event did.
type Published struct {
	Event *Event
	// Deliveries are the deliveries created, one per matching active
	// webhook, leased to the publisher. Empty for a repeat of an earlier
	// idempotency key.
	Deliveries []*Job
	// DeliveryCount counts the event's deliveries, also for a repeat.
	DeliveryCount int
	// Repeat is true when the idempotency key matched an earlier event.
	Repeat bool
}

// Job is a delivery claimed for sending: everything a worker needs.
type Job struct {
	DeliveryID string
	TenantID   string
	WebhookID  string
	EventID    string
	// Attempts made before this one.
	Attempts int
	Payload  []byte
}

// AttemptResult is the outcome of one send, to record.
type AttemptResult struct {
	Job     *Job
	Attempt Attempt
	// Status is the delivery's new status: succeeded, failed, or pending
	// with NextAttemptAt set.
	Status        DeliveryStatus
	NextAttemptAt time.Time
	// DisableAfter deactivates the webhook once every attempt to it has
	// failed for this long; zero never does. A 410 Gone deactivates it
	// at once either way.
	DisableAfter time.Duration
}

// WebhookOutcome is what one batch of attempt results does to one
// webhook: its counters, its run of failures, and whether it is to be
// deactivated.
type WebhookOutcome struct {
	OK, Failed int64
	LastAt     time.Time
	// Recovered is true when the batch's last attempt succeeded: the
	// webhook's run of failures, if any, is over.
	Recovered bool
	// FailingFrom is the first failure after the batch's last success
	// (or the batch's first failure, if none succeeded). Zero when
	// Recovered.
	FailingFrom time.Time
	// Gone is true when the endpoint answered 410 Gone after the last
	// success: the webhook is deactivated now.
	Gone bool
	// DisableAfter is the batch's auto-disable span (zero: never).
	DisableAfter time.Duration
}

// Restarted reports whether the batch holds a success, so a run of
// failures in it starts at FailingFrom rather than continuing an earlier
// one.
func (o *WebhookOutcome) Restarted() bool { return o.OK > 0 }

// DisableReason is the reason recorded when the outcome deactivates its
// webhook: a 410, or failures for DisableAfter.
func (o *WebhookOutcome) DisableReason() string {
	if o.Gone {
		return "the endpoint answered 410 Gone"
	}
	return "every attempt failed for " + humanSpan(o.DisableAfter)
}

// DisableCutoff is the latest start of a run of failures that
// deactivates the webhook; zero when the span is not set.
func (o *WebhookOutcome) DisableCutoff() time.Time {
	if o.DisableAfter <= 0 {
		return time.Time{}
	}
	return o.LastAt.Add(-o.DisableAfter)
}

func humanSpan(d time.Duration) string {
	switch {
	case d >= 24*time.Hour && d%(24*time.Hour) == 0:
		if n := d / (24 * time.Hour); n > 1 {
			return fmt.Sprintf("%d days", n)
		}
		return "1 day"
	case d == time.Hour:
		return "1 hour"
	case d > time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	}
	return d.String()
}

// SummarizeAttempts folds a batch of results into one outcome per
// webhook, taking the results in attempt-time order.
func SummarizeAttempts(results []AttemptResult) map[string]*WebhookOutcome {
	sorted := slices.Clone(results)
	slices.SortStableFunc(sorted, func(a, b AttemptResult) int {
		return a.Attempt.AttemptedAt.Compare(b.Attempt.AttemptedAt)
	})
	out := map[string]*WebhookOutcome{}
	for _, r := range sorted {
		o := out[r.Job.WebhookID]
		if o == nil {
			o = &WebhookOutcome{}
			out[r.Job.WebhookID] = o
		}
		at := r.Attempt.AttemptedAt
		o.LastAt = at
		o.DisableAfter = max(o.DisableAfter, r.DisableAfter)
		if r.Attempt.Error == "" {
			o.OK++
			o.Recovered, o.Gone, o.FailingFrom = true, false, time.Time{}
			continue
		}
		o.Failed++
		if o.Recovered || o.FailingFrom.IsZero() {
			o.Recovered, o.FailingFrom = false, at
		}
		if r.Attempt.StatusCode == http.StatusGone {
			o.Gone = true
		}
	}
	return out
}

// DeliveryFilter selects deliveries for ListDeliveries.
type DeliveryFilter struct {
	Status DeliveryStatus // empty for all
	Limit  int
	Offset int
}
