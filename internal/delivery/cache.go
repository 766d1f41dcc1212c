package delivery

import (
	"context"
	"sync"
	"time"

	"github.com/heraldhq/herald"
)

// webhookCache keeps webhook configurations for a short time, so sending
// does not read the store once per delivery.
type webhookCache struct {
	store   herald.Store
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[string]cachedWebhook
	// forgets counts forget calls, so a load that raced one (and may
	// have read the row before the change) is not cached.
	forgets uint64
}

type cachedWebhook struct {
	hook     *herald.Webhook
	loadedAt time.Time
}

func (c *webhookCache) get(ctx context.Context, tenantID, id string) (*herald.Webhook, error) {
	c.mu.Lock()
	e, ok := c.entries[id]
	gen := c.forgets
	c.mu.Unlock()
	if ok && c.now().Sub(e.loadedAt) < c.ttl {
		return e.hook, nil
	}
	hook, err := c.store.GetWebhook(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.forgets == gen {
		c.entries[id] = cachedWebhook{hook: hook, loadedAt: c.now()}
	}
	c.mu.Unlock()
	return hook, nil
}

func (c *webhookCache) forget(id string) {
	c.mu.Lock()
	delete(c.entries, id)
	c.forgets++
	c.mu.Unlock()
}
