package herald

import "time"

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
}

// DeliveryFilter selects deliveries for ListDeliveries.
type DeliveryFilter struct {
	Status DeliveryStatus // empty for all
	Limit  int
	Offset int
}
