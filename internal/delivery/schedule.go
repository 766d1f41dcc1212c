package delivery

import (
	"errors"
	"fmt"
	"time"

	"github.com/heraldhq/herald"
)

// MaxJitter is the largest share of a retry wait that jitter takes off.
// Jitter only shortens a wait, so a retry is never later than the policy
// promises, and endpoints recovering from an outage are not hit by every
// delivery at once.
const MaxJitter = 0.10

// outcome turns one attempt's result into the delivery's next state.
// attempt is 1-based; jitter is a number in [0, 1).
//
// After attempt n fails, retry n waits policy.Delay(n), less up to
// MaxJitter of it; a Retry-After on 429/503 that asks for longer wins, up
// to MaxDelay. Attempt MaxRetries+1 is the last.
func outcome(p herald.RetryPolicy, attempt int, res Result, now time.Time, jitter float64) (herald.DeliveryStatus, time.Time) {
	if res.OK() {
		return herald.DeliverySucceeded, time.Time{}
	}
	if attempt > p.MaxRetries {
		return herald.DeliveryFailed, time.Time{}
	}
	wait := p.Delay(attempt)
	wait -= time.Duration(jitter * MaxJitter * float64(wait))
	if res.RetryAfter > wait {
		wait = min(res.RetryAfter, p.MaxDelay)
	}
	return herald.DeliveryPending, now.Add(wait)
}

// ErrorText describes a failed attempt for people; "" on success.
func (r Result) ErrorText() string {
	switch {
	case r.Err == nil:
		return ""
	case errors.Is(r.Err, ErrStatus):
		return fmt.Sprintf("endpoint answered HTTP %d", r.StatusCode)
	}
	return r.Err.Error()
}
