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
	// CreateWebhook stores a new, already validated webhook, unless its
	// tenant already has maxPerTenant webhooks (0: no cap), which returns
	// CodeConflict. The count and the insert are atomic.
	CreateWebhook(ctx context.Context, w *Webhook, maxPerTenant int) error
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

	// PublishEvents stores each event and one pending delivery per
	// matching active webhook of its tenant, all in one transaction,
	// leased to the caller until leaseUntil so it can send them at once.
	// An IdempotencyKey seen within IdempotencyTTL returns the earlier
	// event instead (Repeat), creating nothing.
	PublishEvents(ctx context.Context, in []PublishInput, leaseUntil time.Time) ([]Published, error)
	// GetEvent returns an event and its deliveries. Returns CodeNotFound
	// if the tenant has no event id.
	GetEvent(ctx context.Context, tenantID, id string) (*Event, []*Delivery, error)

	// ActiveWebhookIDs lists every active webhook of every tenant, for
	// the claimer.
	ActiveWebhookIDs(ctx context.Context) ([]string, error)
	// ClaimJobs leases up to limit due, unleased pending deliveries of one
	// webhook, oldest due first, until leaseUntil. It also returns when
	// the next unleased pending delivery left behind is due (zero if
	// none), so the caller can sleep until then. It reads only the front
	// of that webhook's due index, never its whole backlog.
	ClaimJobs(ctx context.Context, webhookID string, limit int, now, leaseUntil time.Time) ([]*Job, time.Time, error)
	// ReleaseJobs ends the leases of deliveries the caller will not send,
	// so they can be claimed again.
	ReleaseJobs(ctx context.Context, deliveryIDs []string) error
	// ExtendLeases moves to until the leases of those deliveries whose
	// lease still runs at now, so deliveries a process holds in memory
	// stay its own while they wait to be sent.
	ExtendLeases(ctx context.Context, deliveryIDs []string, now, until time.Time) error
	// ResetLeases ends every lease; only a sole process may call it, at
	// start, since no other process can be sending.
	ResetLeases(ctx context.Context) error
	// RecordAttempts records attempt outcomes: per result, the attempt
	// row, the delivery's new state, and the webhook's counters. A
	// delivery that is no longer pending (cancelled meanwhile) keeps its
	// status; its attempt is still logged.
	RecordAttempts(ctx context.Context, results []AttemptResult) error

	// ListDeliveries returns one page of a webhook's deliveries, newest
	// first, with their attempt logs, and the total matching the filter.
	// Returns CodeNotFound if the tenant has no webhook webhookID.
	ListDeliveries(ctx context.Context, tenantID, webhookID string, f DeliveryFilter) ([]*Delivery, int, error)
	// RetryDelivery makes a delivery pending and due at now. Returns
	// CodeNotFound if the tenant's webhook has no such delivery, and
	// CodeConflict if it is cancelled.
	RetryDelivery(ctx context.Context, tenantID, webhookID, deliveryID string, now time.Time) (*Delivery, error)
	// RecoverDeliveries makes the webhook's failed deliveries created at
	// or after since pending and due at now, and returns how many.
	// Returns CodeNotFound if the tenant has no webhook webhookID.
	RecoverDeliveries(ctx context.Context, tenantID, webhookID string, since, now time.Time) (int, error)

	// Purge deletes up to limit events created before eventsBefore whose
	// deliveries are all final (never one with a pending delivery), with
	// their deliveries and attempts, and up to limit idempotency keys
	// created before keysBefore. It returns the larger of the two counts:
	// when that is limit there may be more. Only one process purges at a
	// time; the others return 0 at once.
	Purge(ctx context.Context, eventsBefore, keysBefore time.Time, limit int) (int, error)

	IdempotencyStore
	APIKeyStore

	// Backlog counts the pending deliveries of every tenant and returns
	// when the oldest of them was created (zero when there are none).
	Backlog(ctx context.Context) (pending int64, oldest time.Time, err error)

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

// APIKeyStore keeps API keys, as hashes.
type APIKeyStore interface {
	// CreateAPIKey stores a key. Returns CodeConflict if its hash exists.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// ListAPIKeys lists every key of every tenant, oldest first.
	ListAPIKeys(ctx context.Context) ([]*APIKey, error)
	// RevokeAPIKey stops a key from working. Returns CodeNotFound if
	// there is no key id.
	RevokeAPIKey(ctx context.Context, id string, now time.Time) error
	// TenantForAPIKey returns the tenant of the working key with this
	// hash. Returns CodeUnauthorized if there is none.
	TenantForAPIKey(ctx context.Context, hash string) (string, error)
}
