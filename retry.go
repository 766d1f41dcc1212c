package herald

import (
	"math"
	"time"
)

// Retry policy defaults. With them a delivery is retried for about nine and a
// half hours (5 s, 10 s, 20 s ... doubling up to 1 h, then hourly), which
// rides out an endpoint outage of well over the two hours we promise.
const (
	DefaultMaxRetries    = 18
	DefaultInitialDelay  = 5 * time.Second
	DefaultMaxDelay      = time.Hour
	DefaultBackoffFactor = 2.0
)

// Retry policy bounds, checked by RetryPolicy.Validate.
const (
	MaxMaxRetries    = 50
	MinRetryDelay    = 100 * time.Millisecond
	MaxRetryDelay    = 24 * time.Hour
	MinBackoffFactor = 1.0
	MaxBackoffFactor = 10.0
)

// RetryPolicy says when a failed delivery is tried again.
type RetryPolicy struct {
	// MaxRetries is how many retries follow the first attempt before the
	// delivery is failed. Defaults to DefaultMaxRetries.
	MaxRetries int
	// InitialDelay is the wait before the first retry. Defaults to
	// DefaultInitialDelay.
	InitialDelay time.Duration
	// MaxDelay caps every wait. Defaults to DefaultMaxDelay.
	MaxDelay time.Duration
	// BackoffFactor multiplies the wait after each retry. Defaults to
	// DefaultBackoffFactor.
	BackoffFactor float64
}

// DefaultRetryPolicy returns the policy a webhook gets when it names none.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{
		MaxRetries:    DefaultMaxRetries,
		InitialDelay:  DefaultInitialDelay,
		MaxDelay:      DefaultMaxDelay,
		BackoffFactor: DefaultBackoffFactor,
	}
}

// Delay returns the wait before retry n (1-based):
// min(InitialDelay × BackoffFactor^(n−1), MaxDelay). The cap is applied here,
// before any jitter, so jitter can only shorten a wait, never stretch it.
func (p RetryPolicy) Delay(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := float64(p.InitialDelay) * math.Pow(p.BackoffFactor, float64(n-1))
	if d >= float64(p.MaxDelay) || math.IsInf(d, 0) || math.IsNaN(d) {
		return p.MaxDelay
	}
	return time.Duration(d)
}

// Validate checks the policy against the documented bounds.
func (p RetryPolicy) Validate() error {
	switch {
	case p.MaxRetries < 0 || p.MaxRetries > MaxMaxRetries:
		return Invalidf("max_retries", "must be between 0 and %d, got %d", MaxMaxRetries, p.MaxRetries)
	case p.InitialDelay < MinRetryDelay || p.InitialDelay > MaxRetryDelay:
		return Invalidf("initial_delay", "must be between %d and %d milliseconds, got %d",
			MinRetryDelay.Milliseconds(), MaxRetryDelay.Milliseconds(), p.InitialDelay.Milliseconds())
	case p.MaxDelay < MinRetryDelay || p.MaxDelay > MaxRetryDelay:
		return Invalidf("max_delay", "must be between %d and %d milliseconds, got %d",
			MinRetryDelay.Milliseconds(), MaxRetryDelay.Milliseconds(), p.MaxDelay.Milliseconds())
	case p.MaxDelay < p.InitialDelay:
		return Invalidf("max_delay", "must be at least initial_delay (%d ms), got %d",
			p.InitialDelay.Milliseconds(), p.MaxDelay.Milliseconds())
	case !(p.BackoffFactor >= MinBackoffFactor && p.BackoffFactor <= MaxBackoffFactor):
		return Invalidf("backoff_factor", "must be between %g and %g, got %g",
			MinBackoffFactor, MaxBackoffFactor, p.BackoffFactor)
	}
	return nil
}
