package herald

import (
	"testing"
	"time"
)

func TestSummarizeAttempts(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	result := func(webhook string, m, code int) AttemptResult {
		r := AttemptResult{Job: &Job{WebhookID: webhook}, Attempt: Attempt{AttemptedAt: at(m), StatusCode: code}, DisableAfter: time.Hour}
		if code != 200 {
			r.Attempt.Error = "failed"
		}
		return r
	}
	// Out of order on purpose: the summary follows attempt time.
	got := SummarizeAttempts([]AttemptResult{
		result("a", 4, 500), result("a", 1, 500), result("a", 2, 200), result("a", 3, 410),
		result("b", 1, 500), result("b", 2, 500),
		result("c", 1, 410), result("c", 2, 200),
	})
	a, b, c := got["a"], got["b"], got["c"]
	if a.OK != 1 || a.Failed != 3 || a.Recovered || !a.Restarted() || !a.FailingFrom.Equal(at(3)) || !a.Gone || !a.LastAt.Equal(at(4)) {
		t.Errorf("a = %+v; want failures restarting at minute 3, gone", a)
	}
	if b.Restarted() || b.Recovered || !b.FailingFrom.Equal(at(1)) || b.Gone {
		t.Errorf("b = %+v; want a run continuing from minute 1", b)
	}
	if !c.Recovered || !c.FailingFrom.IsZero() || c.Gone {
		t.Errorf("c = %+v; want recovered: the 410 came before a success", c)
	}
	if want := at(4).Add(-time.Hour); !a.DisableCutoff().Equal(want) {
		t.Errorf("cutoff = %v, want %v", a.DisableCutoff(), want)
	}
	for span, want := range map[time.Duration]string{
		5 * 24 * time.Hour: "every attempt failed for 5 days",
		24 * time.Hour:     "every attempt failed for 1 day",
		time.Hour:          "every attempt failed for 1 hour",
		90 * time.Minute:   "every attempt failed for 1h30m0s",
	} {
		if got := (&WebhookOutcome{DisableAfter: span}).DisableReason(); got != want {
			t.Errorf("reason for %v = %q, want %q", span, got, want)
		}
	}
}
