package herald_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func asError(err error, target **herald.Error) bool { return errors.As(err, target) }

func validWebhook() *herald.Webhook {
	return &herald.Webhook{
		URL:         "https://myapp.com/webhook",
		Events:      []string{"template.completed", "template.failed", "batch.completed"},
		Secret:      "webhook-secret-123",
		RetryPolicy: herald.DefaultRetryPolicy(),
		Active:      true,
		MaxInFlight: herald.DefaultMaxInFlight,
	}
}

func TestWebhookValidate(t *testing.T) {
	types, err := herald.NewEventTypes()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edit    func(*herald.Webhook)
		field   string
		message string // a part of the message
	}{
		{"missing url", func(w *herald.Webhook) { w.URL = "" }, "config.url", "required"},
		{"relative url", func(w *herald.Webhook) { w.URL = "/hooks" }, "config.url", "absolute"},
		{"ftp url", func(w *herald.Webhook) { w.URL = "ftp://example.com/x" }, "config.url", "http or https"},
		{"url with credentials", func(w *herald.Webhook) { w.URL = "https://u:p@example.com/" }, "config.url", "credentials"},
		{"url too long", func(w *herald.Webhook) { w.URL = "https://example.com/" + strings.Repeat("a", 2030) }, "config.url", "2048"},
		{"no events", func(w *herald.Webhook) { w.Events = nil }, "config.events", "template.completed"},
		{"unknown event", func(w *herald.Webhook) { w.Events = []string{"order.created"} }, "config.events", "known types: batch.completed"},
		{"wildcard matching nothing", func(w *herald.Webhook) { w.Events = []string{"tempate.*"} }, "config.events", "matches no known"},
		{"bad wildcard", func(w *herald.Webhook) { w.Events = []string{"tem*"} }, "config.events", "unknown event type"},
		{"short secret", func(w *herald.Webhook) { w.Secret = "short" }, "config.secret", "at least 16 bytes"},
		{"bad whsec secret", func(w *herald.Webhook) { w.Secret = "whsec_!!!notbase64" }, "config.secret", "base64"},
		{"short whsec key", func(w *herald.Webhook) { w.Secret = "whsec_c2hvcnQ=" }, "config.secret", "at least 16 bytes"},
		{"bad retry", func(w *herald.Webhook) { w.RetryPolicy.MaxRetries = 99 }, "config.retry_policy.max_retries", "between 0 and 50"},
		{"signature header", func(w *herald.Webhook) { w.Headers = map[string]string{"Webhook-Signature": "x"} }, "config.headers.Webhook-Signature", "webhook-*"},
		{"content-type header", func(w *herald.Webhook) { w.Headers = map[string]string{"content-type": "text/plain"} }, "config.headers.content-type", "cannot be overridden"},
		{"host header", func(w *herald.Webhook) { w.Headers = map[string]string{"Host": "evil"} }, "config.headers.Host", "cannot be overridden"},
		{"hop-by-hop header", func(w *herald.Webhook) { w.Headers = map[string]string{"Transfer-Encoding": "chunked"} }, "config.headers.Transfer-Encoding", "cannot be overridden"},
		{"bad header name", func(w *herald.Webhook) { w.Headers = map[string]string{"X Bad": "v"} }, "config.headers.X Bad", "not a valid header name"},
		{"header injection", func(w *herald.Webhook) { w.Headers = map[string]string{"X-A": "v\r\nX-B: w"} }, "config.headers.X-A", "CR, LF"},
		{"long description", func(w *herald.Webhook) { w.Description = strings.Repeat("d", 1025) }, "config.description", "1024"},
		{"zero in flight", func(w *herald.Webhook) { w.MaxInFlight = 0 }, "config.max_in_flight", "between 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := validWebhook()
			tt.edit(w)
			err := w.Validate(types)
			var he *herald.Error
			if !errors.As(err, &he) || he.Code != herald.CodeInvalid || he.Field != tt.field || !strings.Contains(he.Message, tt.message) {
				t.Fatalf("Validate() = %v, want CodeInvalid on %q mentioning %q", err, tt.field, tt.message)
			}
		})
	}
	ok := validWebhook()
	ok.Events = []string{"*", "batch.*", "template.failed"}
	ok.Headers = map[string]string{"Authorization": "Bearer x", "X-Team": "core"}
	ok.Secret = herald.GenerateSecret()
	if err := ok.Validate(types); err != nil {
		t.Fatalf("valid webhook: %v", err)
	}
}

func TestWebhookUpdateRotatesSecret(t *testing.T) {
	w := validWebhook()
	now := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	same := w.Secret
	herald.WebhookUpdate{Secret: &same}.Apply(w, now)
	if w.PreviousSecret != "" {
		t.Fatalf("setting the same secret started a rotation")
	}
	next := "next-secret-0123456789"
	herald.WebhookUpdate{Secret: &next}.Apply(w, now)
	if got := w.SigningSecrets(now.Add(23 * time.Hour)); len(got) != 2 || got[0] != next || got[1] != "webhook-secret-123" {
		t.Fatalf("signing secrets during rotation = %v", got)
	}
	if got := w.SigningSecrets(now.Add(24 * time.Hour)); len(got) != 1 || got[0] != next {
		t.Fatalf("signing secrets after rotation = %v", got)
	}
}
