package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BacklogFunc counts pending deliveries and says when the oldest was
// created (zero when there are none).
type BacklogFunc func(ctx context.Context) (pending int64, oldest time.Time, err error)

// backlogTTL is how long a backlog reading serves scrapes: counting
// pending deliveries reads every one of them, so scrapes from several
// Prometheus servers must not each pay for it.
const backlogTTL = 10 * time.Second

// backlogCollector reports the store's backlog at scrape time.
type backlogCollector struct {
	read    BacklogFunc
	now     func() time.Time
	pending *prometheus.Desc
	age     *prometheus.Desc

	mu      sync.Mutex
	readAt  time.Time
	count   int64
	oldest  time.Time
	lastErr error
}

// WatchBacklog adds herald_deliveries_pending and
// herald_delivery_oldest_pending_age_seconds, read through read at most
// every 10 s. With several heralds on one database each reports the same
// shared backlog.
func (m *Metrics) WatchBacklog(read BacklogFunc) {
	if m == nil {
		return
	}
	m.registry.MustRegister(&backlogCollector{
		read: read,
		now:  time.Now,
		pending: prometheus.NewDesc("herald_deliveries_pending",
			"Deliveries waiting to be sent or retried, in the whole database.", nil, nil),
		age: prometheus.NewDesc("herald_delivery_oldest_pending_age_seconds",
			"Age of the oldest pending delivery; 0 when none is pending. Alert on it to catch a stuck backlog.", nil, nil),
	})
}

func (c *backlogCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.age
}

func (c *backlogCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if now.Sub(c.readAt) >= backlogTTL {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.count, c.oldest, c.lastErr = c.read(ctx)
		cancel()
		c.readAt = now
	}
	if c.lastErr != nil {
		ch <- prometheus.NewInvalidMetric(c.pending, c.lastErr)
		return
	}
	age := 0.0
	if !c.oldest.IsZero() {
		age = max(now.Sub(c.oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(c.count))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}
