package verify_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/heraldhq/herald/verify"
)

const whsec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func signedHeader(id string, ts time.Time, sig string) http.Header {
	h := http.Header{}
	h.Set(verify.HeaderID, id)
	h.Set(verify.HeaderTimestamp, strconv.FormatInt(ts.Unix(), 10))
	h.Set(verify.HeaderSignature, sig)
	return h
}

// The official library verifies what Sign makes, for both secret forms.
func TestSignVerifiesWithStandardWebhooks(t *testing.T) {
	body := []byte(`{"id":"evt_1","event":"batch.failed","timestamp":1,"data":{}}`)
	now := time.Now()
	for _, secret := range []string{whsec, "webhook-secret-123"} {
		key, err := verify.SecretKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		var official *standardwebhooks.Webhook
		if strings.HasPrefix(secret, verify.SecretPrefix) {
			official, err = standardwebhooks.NewWebhook(secret)
		} else {
			official, err = standardwebhooks.NewWebhookRaw([]byte(secret))
		}
		if err != nil {
			t.Fatal(err)
		}
		h := signedHeader("evt_1", now, verify.Sign(key, "evt_1", now, body))
		if err := official.Verify(body, h); err != nil {
			t.Errorf("secret %q: official library rejects our signature: %v", secret, err)
		}
	}
}

// Verify accepts what the official library signs.
func TestVerifyAcceptsStandardWebhooksSignatures(t *testing.T) {
	official, err := standardwebhooks.NewWebhook(whsec)
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"hello":"world"}`)
	now := time.Now()
	sig, err := official.Sign("msg_1", now, body)
	if err != nil {
		t.Fatal(err)
	}
	v, err := verify.NewVerifier(whsec)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(body, signedHeader("msg_1", now, sig)); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyFailures(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	key, _ := verify.SecretKey(whsec)
	body := []byte(`{"a":1}`)
	good := verify.Sign(key, "m1", now, body)
	v, _ := verify.NewVerifier(whsec)
	v.Now = func() time.Time { return now }
	tests := []struct {
		name   string
		body   string
		header http.Header
		want   error
	}{
		{"ok", `{"a":1}`, signedHeader("m1", now, good), nil},
		{"missing headers", `{"a":1}`, http.Header{}, verify.ErrMissingHeaders},
		{"bad timestamp", `{"a":1}`, func() http.Header {
			h := signedHeader("m1", now, good)
			h.Set(verify.HeaderTimestamp, "yesterday")
			return h
		}(), verify.ErrInvalidTimestamp},
		{"too old", `{"a":1}`, signedHeader("m1", now.Add(-6*time.Minute), verify.Sign(key, "m1", now.Add(-6*time.Minute), body)), verify.ErrTimestampTooOld},
		{"too new", `{"a":1}`, signedHeader("m1", now.Add(6*time.Minute), verify.Sign(key, "m1", now.Add(6*time.Minute), body)), verify.ErrTimestampTooNew},
		{"tampered body", `{"a":2}`, signedHeader("m1", now, good), verify.ErrNoMatchingSignature},
		{"other id", `{"a":1}`, signedHeader("m2", now, good), verify.ErrNoMatchingSignature},
		{"rotation: second signature matches", `{"a":1}`, signedHeader("m1", now, "v1,bm90LXRoaXMtb25l "+good), nil},
		{"wrong version", `{"a":1}`, signedHeader("m1", now, strings.Replace(good, "v1,", "v2,", 1)), verify.ErrNoMatchingSignature},
	}
	for _, tt := range tests {
		if err := v.Verify([]byte(tt.body), tt.header); !errors.Is(err, tt.want) {
			t.Errorf("%s: Verify() = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestVerifierAcceptsEitherSecretDuringRotation(t *testing.T) {
	now := time.Now()
	body := []byte(`{}`)
	oldKey, _ := verify.SecretKey("old-secret-0123456789")
	v, err := verify.NewVerifier(whsec, "old-secret-0123456789")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Verify(body, signedHeader("m", now, verify.Sign(oldKey, "m", now, body))); err != nil {
		t.Fatalf("old secret during rotation: %v", err)
	}
	if _, err := verify.NewVerifier("whsec_***"); !errors.Is(err, verify.ErrInvalidSecret) {
		t.Fatalf("NewVerifier(bad) = %v, want ErrInvalidSecret", err)
	}
}

func TestMiddleware(t *testing.T) {
	v, _ := verify.NewVerifier(whsec)
	var got string
	h := verify.Middleware(v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = string(b)
	}))
	key, _ := verify.SecretKey(whsec)
	body := `{"ok":true}`
	now := time.Now()

	req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header = signedHeader("m", now, verify.Sign(key, "m", now, []byte(body)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || got != body {
		t.Fatalf("signed request: status %d, handler saw %q; want 200 and the body", rec.Code, got)
	}

	req = httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	req.Header = signedHeader("m", now, "v1,Zm9yZ2Vk")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Fatalf("forged request: status %d, want 401", rec.Code)
	}
}
