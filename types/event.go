package types

// PublishEventRequest publishes one event: POST /events.
type PublishEventRequest struct {
	Event string         `json:"event"`
	Data  map[string]any `json:"data,omitempty"`
	// IdempotencyKey makes a repeat within 24 hours return the first
	// event and create nothing.
	IdempotencyKey string           `json:"idempotency_key,omitempty"`
	Metadata       *RequestMetadata `json:"metadata,omitempty"`
}

// PublishEventResponse is the answer to a publish, sent once the event and
// its deliveries are durable.
type PublishEventResponse struct {
	EventID string `json:"event_id"`
	// Deliveries is how many webhooks the event goes to.
	Deliveries int64 `json:"deliveries"`
	// Duplicate is true when IdempotencyKey matched an earlier event.
	Duplicate bool `json:"duplicate,omitempty"`
}

// PublishEventsRequest publishes up to 500 events in one transaction:
// POST /events/batch.
type PublishEventsRequest struct {
	Events   []*PublishEventRequest `json:"events"`
	Metadata *RequestMetadata       `json:"metadata,omitempty"`
}

// PublishEventsResponse answers a batch publish, one entry per event in
// request order.
type PublishEventsResponse struct {
	Events []*PublishEventResponse `json:"events"`
}

// EventInfo is an event and the state of its deliveries: GET /events/{id}.
type EventInfo struct {
	ID         string          `json:"id"`
	Event      string          `json:"event"`
	Timestamp  int64           `json:"timestamp"`
	Data       map[string]any  `json:"data"`
	Deliveries []*DeliveryInfo `json:"deliveries"`
}

// DeliveryInfo is one event on its way to one webhook.
type DeliveryInfo struct {
	ID        string `json:"id"`
	WebhookID string `json:"webhook_id"`
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	// Status is pending, succeeded, failed or cancelled.
	Status   string `json:"status"`
	Attempts int32  `json:"attempts"`
	// NextAttemptAt is when a pending delivery is due (Unix seconds).
	NextAttemptAt  int64          `json:"next_attempt_at,omitempty"`
	LastStatusCode int32          `json:"last_status_code,omitempty"`
	LastError      string         `json:"last_error,omitempty"`
	CreatedAt      int64          `json:"created_at"`
	UpdatedAt      int64          `json:"updated_at"`
	AttemptLog     []*AttemptInfo `json:"attempt_log,omitempty"`
}

// AttemptInfo is one HTTP send of a delivery.
type AttemptInfo struct {
	Attempt int32 `json:"attempt"`
	// AttemptedAtMS is when it was sent, in Unix milliseconds, precise
	// enough to read a retry schedule.
	AttemptedAtMS int64  `json:"attempted_at_ms"`
	StatusCode    int32  `json:"status_code"`
	LatencyMS     int64  `json:"latency_ms"`
	Error         string `json:"error,omitempty"`
	// ResponseBody is the first 4 KiB of the answer.
	ResponseBody string `json:"response_body,omitempty"`
}

// ListDeliveriesRequest selects a page of a webhook's deliveries. Status
// filters (empty: all); zero Limit and Offset take the defaults.
type ListDeliveriesRequest struct {
	WebhookID string
	Status    string
	Limit     int32
	Offset    int32
}

// ListDeliveriesResponse is one page of deliveries, newest first, each
// with its attempts.
type ListDeliveriesResponse struct {
	Deliveries []*DeliveryInfo `json:"deliveries"`
	Total      int64           `json:"total"`
	Limit      int32           `json:"limit"`
	Offset     int32           `json:"offset"`
}

// RecoverWebhookRequest re-queues a webhook's failed deliveries created at
// or after Since (Unix seconds): POST /webhooks/{id}/recover.
type RecoverWebhookRequest struct {
	WebhookID string           `json:"-"`
	Since     int64            `json:"since"`
	Metadata  *RequestMetadata `json:"metadata,omitempty"`
}

// RecoverWebhookResponse says how many deliveries were re-queued.
type RecoverWebhookResponse struct {
	WebhookID string `json:"webhook_id"`
	Recovered int64  `json:"recovered"`
}

// EventTypesResponse lists the event types herald accepts: the built-in
// ones and any the operator added. GET /event-types.
type EventTypesResponse struct {
	EventTypes []string `json:"event_types"`
}
