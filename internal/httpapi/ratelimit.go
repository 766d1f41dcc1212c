package httpapi

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldhq/herald"
)

// Rate limit defaults: generous enough for a publisher that sends events
// one request at a time, low enough that one runaway key cannot starve
// the others of the store.
const (
	DefaultRateLimit = 1000 // requests per second, per API key
	DefaultRateBurst = 2000
)

// rateLimiter keeps one token bucket per API key (per tenant in open
// mode). Keys are few and known, so the map stays small.
type rateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time
	mu    sync.Mutex
	byKey map[string]*rate.Limiter
}

func newRateLimiter(perSecond float64, burst int, now func() time.Time) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: max(burst, 1), now: now, byKey: map[string]*rate.Limiter{}}
}

// allow takes a token for key, or says how long until one is free.
func (l *rateLimiter) allow(key string) (ok bool, wait time.Duration) {
	l.mu.Lock()
	lim := l.byKey[key]
	if lim == nil {
		lim = rate.NewLimiter(l.limit, l.burst)
		l.byKey[key] = lim
	}
	l.mu.Unlock()
	now := l.now()
	r := lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now) // a refused request spends no token
		return false, d
	}
	return true, 0
}

// rateLimit answers 429 with Retry-After once a key spends its bucket.
func (s *Server) rateLimit(next http.Handler) http.Handler {
	if s.limiter == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait := s.limiter.allow(rateKeyOf(r.Context()))
		if !ok {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			s.writeError(w, r, herald.Errorf(herald.CodeRateLimited,
				"too many requests for this API key: at most %g a second, bursts of %d; retry after %s",
				float64(s.limiter.limit), s.limiter.burst, wait.Round(time.Millisecond)))
			return
		}
		next.ServeHTTP(w, r)
	})
}
