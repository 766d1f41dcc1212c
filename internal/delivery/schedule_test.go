package delivery

import (
	"errors"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func TestOutcome(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := herald.RetryPolicy{MaxRetries: 3, InitialDelay: time.Second, MaxDelay: 30 * time.Second, BackoffFactor: 2}
	failed := Result{StatusCode: 500, Err: ErrStatus}
	tests := []struct {
		name       string
		attempt    int
		res        Result
		jitter     float64
		wantStatus herald.DeliveryStatus
		wantWait   time.Duration
	}{
		{"success", 1, Result{StatusCode: 200}, 0, herald.DeliverySucceeded, 0},
		{"first failure", 1, failed, 0, herald.DeliveryPending, time.Second},
		{"second failure", 2, failed, 0, herald.DeliveryPending, 2 * time.Second},
		{"third failure", 3, failed, 0, herald.DeliveryPending, 4 * time.Second},
		{"out of retries", 4, failed, 0, herald.DeliveryFailed, 0},
		{"full jitter takes 10%", 3, failed, 0.999999, herald.DeliveryPending, 3600 * time.Millisecond},
		{"half jitter", 2, failed, 0.5, herald.DeliveryPending, 1900 * time.Millisecond},
		{"retry-after longer", 1, Result{StatusCode: 429, Err: ErrStatus, RetryAfter: 10 * time.Second}, 0, herald.DeliveryPending, 10 * time.Second},
		{"retry-after capped", 1, Result{StatusCode: 503, Err: ErrStatus, RetryAfter: time.Hour}, 0, herald.DeliveryPending, 30 * time.Second},
		{"retry-after shorter is ignored", 3, Result{StatusCode: 503, Err: ErrStatus, RetryAfter: time.Second}, 0, herald.DeliveryPending, 4 * time.Second},
		{"timeout", 1, Result{Err: errors.New("timed out")}, 0, herald.DeliveryPending, time.Second},
	}
	for _, tt := range tests {
		status, next := outcome(p, tt.attempt, tt.res, now, tt.jitter)
		var wait time.Duration
		if !next.IsZero() {
			wait = next.Sub(now)
		}
		if status != tt.wantStatus || (wait-tt.wantWait).Abs() > time.Millisecond {
			t.Errorf("%s: outcome = %s after %v, want %s after %v", tt.name, status, wait, tt.wantStatus, tt.wantWait)
		}
	}
	if status, _ := outcome(herald.RetryPolicy{MaxRetries: 0, InitialDelay: time.Second, MaxDelay: time.Second, BackoffFactor: 1}, 1, failed, now, 0); status != herald.DeliveryFailed {
		t.Errorf("max_retries 0: first failure gives %s, want failed", status)
	}
}
