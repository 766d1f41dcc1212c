package herald

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/heraldhq/herald/verify"
)

// Webhook limits, checked by Webhook.Validate.
const (
	MaxURLLength         = 2048
	MaxDescriptionLength = 1024
	MinSecretBytes       = 16
	MaxSecretBytes       = 512
	MaxHeaders           = 32
	MaxHeaderValueLength = 4096
	MaxEventsPerWebhook  = 256
	DefaultMaxInFlight   = 10
	MaxMaxInFlight       = 1000
)

// SecretRotationOverlap is how long a replaced secret keeps signing beside
// the new one, so receivers can switch without dropping a delivery.
const SecretRotationOverlap = 24 * time.Hour

// Webhook is a subscriber endpoint and its configuration.
type Webhook struct {
	ID       string
	TenantID string
	URL      string
	// Events lists exact types, prefix wildcards ("template.*") or "*".
	Events []string
	Secret string
	// PreviousSecret keeps signing until PreviousSecretExpiresAt after a
	// rotation.
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time
	RetryPolicy             RetryPolicy
	// Headers are added to every request to URL.
	Headers     map[string]string
	Active      bool
	Description string
	// MaxInFlight caps concurrent sends to this webhook.
	MaxInFlight int

	CreatedAt    time.Time
	UpdatedAt    time.Time
	LastUsedAt   time.Time // zero until the first attempt
	SuccessCount int64
	ErrorCount   int64
	// FailingSince is when an unbroken run of failed attempts began;
	// zero while the last attempt succeeded.
	FailingSince time.Time
	// DisabledReason says why herald deactivated the webhook itself (a
	// 410 Gone, or failures for too long); empty otherwise.
	DisabledReason string
	DisabledAt     time.Time
}

// WebhookFilter selects webhooks for ListWebhooks.
type WebhookFilter struct {
	ActiveOnly bool
	Limit      int
	Offset     int
}

// WebhookStats are a tenant's totals.
type WebhookStats struct {
	TotalWebhooks        int64
	ActiveWebhooks       int64
	TotalDeliveries      int64
	SuccessfulDeliveries int64
	FailedDeliveries     int64
}

// WebhookUpdate holds the fields a PATCH changes; nil means unchanged.
type WebhookUpdate struct {
	URL         *string
	Events      *[]string
	Secret      *string
	RetryPolicy *RetryPolicy
	Headers     *map[string]string
	Active      *bool
	Description *string
	MaxInFlight *int
}

// Apply changes w as u says. A new secret moves the old one to
// PreviousSecret for SecretRotationOverlap.
func (u WebhookUpdate) Apply(w *Webhook, now time.Time) {
	if u.URL != nil {
		w.URL = *u.URL
	}
	if u.Events != nil {
		w.Events = *u.Events
	}
	if u.Secret != nil && *u.Secret != w.Secret {
		w.PreviousSecret = w.Secret
		w.PreviousSecretExpiresAt = now.Add(SecretRotationOverlap)
		w.Secret = *u.Secret
	}
	if u.RetryPolicy != nil {
		w.RetryPolicy = *u.RetryPolicy
	}
	if u.Headers != nil {
		w.Headers = *u.Headers
	}
	if u.Active != nil {
		if *u.Active && !w.Active {
			// Reactivated: the endpoint gets a fresh start.
			w.DisabledReason, w.DisabledAt, w.FailingSince = "", time.Time{}, time.Time{}
		}
		w.Active = *u.Active
	}
	if u.Description != nil {
		w.Description = *u.Description
	}
	if u.MaxInFlight != nil {
		w.MaxInFlight = *u.MaxInFlight
	}
	w.UpdatedAt = now
}

// SigningSecrets returns the secrets that sign a request sent at now: the
// current one and, during a rotation, the previous one.
func (w *Webhook) SigningSecrets(now time.Time) []string {
	if w.PreviousSecret != "" && now.Before(w.PreviousSecretExpiresAt) {
		return []string{w.Secret, w.PreviousSecret}
	}
	return []string{w.Secret}
}

// GenerateSecret returns a new random "whsec_" secret.
func GenerateSecret() string {
	key := make([]byte, 32)
	rand.Read(key)
	return verify.SecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// Validate checks every field of w against the rules, naming the first field
// that breaks one under the JSON path "config".
func (w *Webhook) Validate(types *EventTypes) error {
	checks := []func() error{
		func() error { return validateURL(w.URL) },
		func() error { return validateEvents(types, w.Events) },
		func() error { return validateSecret(w.Secret) },
		func() error { return prefixField(w.RetryPolicy.Validate(), "retry_policy") },
		func() error { return validateHeaders(w.Headers) },
		func() error {
			if len(w.Description) > MaxDescriptionLength {
				return Invalidf("description", "must be at most %d bytes, got %d", MaxDescriptionLength, len(w.Description))
			}
			return nil
		},
		func() error {
			if w.MaxInFlight < 1 || w.MaxInFlight > MaxMaxInFlight {
				return Invalidf("max_in_flight", "must be between 1 and %d, got %d", MaxMaxInFlight, w.MaxInFlight)
			}
			return nil
		},
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return prefixField(err, "config")
		}
	}
	return nil
}

func validateURL(raw string) error {
	switch {
	case raw == "":
		return Invalidf("url", "is required")
	case len(raw) > MaxURLLength:
		return Invalidf("url", "must be at most %d bytes, got %d", MaxURLLength, len(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Hostname() == "" {
		return Invalidf("url", "must be an absolute http or https URL, got %q", raw)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Invalidf("url", "scheme must be http or https, got %q", u.Scheme)
	}
	if u.User != nil {
		return Invalidf("url", "must not contain credentials; use headers instead")
	}
	return nil
}

func validateEvents(types *EventTypes, events []string) error {
	if len(events) == 0 {
		return Invalidf("events", "must list at least one event type; known types: %s", strings.Join(types.Names(), ", "))
	}
	if len(events) > MaxEventsPerWebhook {
		return Invalidf("events", "must list at most %d entries, got %d", MaxEventsPerWebhook, len(events))
	}
	for _, e := range events {
		if err := types.CheckSubscription("events", e); err != nil {
			return err
		}
	}
	return nil
}

func validateSecret(secret string) error {
	key, err := verify.SecretKey(secret)
	switch {
	case secret == "":
		return Invalidf("secret", "is required")
	case err != nil:
		return Invalidf("secret", "a secret starting with %q must continue in base64", verify.SecretPrefix)
	case len(key) < MinSecretBytes:
		return Invalidf("secret", "must be at least %d bytes, got %d", MinSecretBytes, len(key))
	case len(secret) > MaxSecretBytes:
		return Invalidf("secret", "must be at most %d bytes, got %d", MaxSecretBytes, len(secret))
	}
	return nil
}

// reservedHeaders may not be set by a webhook: herald owns them, or they
// describe the connection rather than the request.
var reservedHeaders = map[string]bool{
	"Content-Type": true, "Content-Length": true, "Host": true, "User-Agent": true,
	"Connection": true, "Keep-Alive": true, "Proxy-Authenticate": true,
	"Proxy-Authorization": true, "Proxy-Connection": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
}

func validateHeaders(headers map[string]string) error {
	if len(headers) > MaxHeaders {
		return Invalidf("headers", "must have at most %d entries, got %d", MaxHeaders, len(headers))
	}
	for name, value := range headers {
		field := "headers." + name
		canonical := http.CanonicalHeaderKey(name)
		switch {
		case !isToken(name):
			return Invalidf(field, "%q is not a valid header name", name)
		case strings.HasPrefix(strings.ToLower(name), "webhook-"):
			return Invalidf(field, "webhook-* headers are set by herald to sign the request")
		case reservedHeaders[canonical]:
			return Invalidf(field, "%s is set by herald or the connection and cannot be overridden", canonical)
		case len(value) > MaxHeaderValueLength:
			return Invalidf(field, "value must be at most %d bytes, got %d", MaxHeaderValueLength, len(value))
		case strings.ContainsAny(value, "\r\n\x00"):
			return Invalidf(field, "value must not contain CR, LF or NUL")
		}
	}
	return nil
}

// isToken reports whether s is an RFC 9110 token, the grammar of a header
// field name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}
