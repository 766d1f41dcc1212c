package herald

import (
	"context"
	"time"
)

// Store is herald's one storage seam. Every method takes the tenant
// explicitly: nothing crosses from one tenant to another, and another
// tenant's id behaves exactly like an unknown one (CodeNotFound).
//
// internal/storetest holds the behaviour every implementation must show.
type Store interface {
	// CreateWebhook stores a new, already validated webhook.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// GetWebhook returns CodeNotFound if the tenant has no webhook id.
	GetWebhook(ctx context.Context, tenantID, id string) (*Webhook, error)
	// ListWebhooks returns one page, newest first, and the total that
	// match the filter.
	ListWebhooks(ctx context.Context, tenantID string, f WebhookFilter) ([]*Webhook, int, error)
	// UpdateWebhook reads the webhook, lets fn change it and writes it
	// back, all in one transaction, so concurrent updates never lose each
	// other's changes. An error from fn aborts and is returned as is.
	// Counters are not written: RecordWebhookUse owns them. Returns
	// CodeNotFound if the tenant has no webhook id.
	UpdateWebhook(ctx context.Context, tenantID, id string, fn func(*Webhook) error) (*Webhook, error)
	// DeleteWebhook removes the webhook. Returns CodeNotFound if the
	// tenant has no webhook id.
	DeleteWebhook(ctx context.Context, tenantID, id string) error
	// RecordWebhookUse counts one attempt as a success or an error and
	// sets LastUsedAt, atomically. Returns CodeNotFound if the webhook is
	// gone.
	RecordWebhookUse(ctx context.Context, tenantID, id string, success bool, at time.Time) error
	// WebhookStats returns the tenant's totals.
	WebhookStats(ctx context.Context, tenantID string) (*WebhookStats, error)

	IdempotencyStore

	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// IdempotencyTTL is how long an Idempotency-Key is remembered.
const IdempotencyTTL = 24 * time.Hour

// IdempotencyRecord is what herald remembers of a request sent with an
// Idempotency-Key.
type IdempotencyRecord struct {
	// Fingerprint identifies the request (method, path, body), so the same
	// key sent with a different request is caught.
	Fingerprint string
	// Done is false while the first request is still running.
	Done       bool
	StatusCode int
	Body       []byte
	CreatedAt  time.Time
}

// IdempotencyStore remembers requests by key so a retried request gets the
// first answer and changes nothing.
type IdempotencyStore interface {
	// BeginIdempotent claims key for a request. It returns nil if the key
	// was free (or older than IdempotencyTTL): the caller then runs the
	// request and must call CompleteIdempotent or ReleaseIdempotent. Else
	// it returns the existing record.
	BeginIdempotent(ctx context.Context, tenantID, key, fingerprint string, now time.Time) (*IdempotencyRecord, error)
	// CompleteIdempotent stores the answer to replay for key.
	CompleteIdempotent(ctx context.Context, tenantID, key string, statusCode int, body []byte) error
	// ReleaseIdempotent forgets key, so a request that failed can be
	// retried with it.
	ReleaseIdempotent(ctx context.Context, tenantID, key string) error
}
