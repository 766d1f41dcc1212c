package herald_test

import (
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func TestRetryPolicyDelay(t *testing.T) {
	seed := herald.RetryPolicy{MaxRetries: 3, InitialDelay: time.Second, MaxDelay: 30 * time.Second, BackoffFactor: 2}
	tests := []struct {
		policy herald.RetryPolicy
		n      int
		want   time.Duration
	}{
		{seed, 1, time.Second},
		{seed, 2, 2 * time.Second},
		{seed, 3, 4 * time.Second},
		{seed, 5, 16 * time.Second},
		{seed, 6, 30 * time.Second}, // 32 s capped
		{seed, 1000, 30 * time.Second},
		{seed, 0, time.Second},
		{herald.RetryPolicy{InitialDelay: 500 * time.Millisecond, MaxDelay: time.Hour, BackoffFactor: 1}, 7, 500 * time.Millisecond},
		{herald.RetryPolicy{InitialDelay: 100 * time.Millisecond, MaxDelay: time.Second, BackoffFactor: 1.5}, 3, 225 * time.Millisecond},
		{herald.DefaultRetryPolicy(), 11, time.Hour},
	}
	for _, tt := range tests {
		if got := tt.policy.Delay(tt.n); got != tt.want {
			t.Errorf("%+v.Delay(%d) = %v, want %v", tt.policy, tt.n, got, tt.want)
		}
	}
}

func TestDefaultRetryPolicyRidesOutTwoHours(t *testing.T) {
	p := herald.DefaultRetryPolicy()
	if err := p.Validate(); err != nil {
		t.Fatalf("default policy invalid: %v", err)
	}
	var total time.Duration
	for n := 1; n <= p.MaxRetries; n++ {
		total += p.Delay(n) * 9 / 10 // the most jitter can take off
	}
	if total < 2*time.Hour {
		t.Fatalf("default policy retries for %v, want at least 2h", total)
	}
}

func TestRetryPolicyValidate(t *testing.T) {
	ok := herald.DefaultRetryPolicy()
	tests := []struct {
		name  string
		edit  func(*herald.RetryPolicy)
		field string
	}{
		{"negative retries", func(p *herald.RetryPolicy) { p.MaxRetries = -1 }, "max_retries"},
		{"too many retries", func(p *herald.RetryPolicy) { p.MaxRetries = 51 }, "max_retries"},
		{"initial delay too short", func(p *herald.RetryPolicy) { p.InitialDelay = 99 * time.Millisecond }, "initial_delay"},
		{"initial delay too long", func(p *herald.RetryPolicy) { p.InitialDelay = 25 * time.Hour }, "initial_delay"},
		{"max delay too long", func(p *herald.RetryPolicy) { p.MaxDelay = 25 * time.Hour }, "max_delay"},
		{"max below initial", func(p *herald.RetryPolicy) { p.InitialDelay, p.MaxDelay = 10*time.Second, time.Second }, "max_delay"},
		{"factor below 1", func(p *herald.RetryPolicy) { p.BackoffFactor = 0.5 }, "backoff_factor"},
		{"factor above 10", func(p *herald.RetryPolicy) { p.BackoffFactor = 10.5 }, "backoff_factor"},
	}
	for _, tt := range tests {
		p := ok
		tt.edit(&p)
		err := p.Validate()
		var he *herald.Error
		if err == nil || !asError(err, &he) || he.Field != tt.field || he.Code != herald.CodeInvalid {
			t.Errorf("%s: Validate() = %v, want CodeInvalid on %q", tt.name, err, tt.field)
		}
	}
	edge := herald.RetryPolicy{MaxRetries: 0, InitialDelay: 100 * time.Millisecond, MaxDelay: 24 * time.Hour, BackoffFactor: 10}
	if err := edge.Validate(); err != nil {
		t.Errorf("policy at the bounds: %v", err)
	}
}
