// Package verify signs and verifies webhook requests as the Standard
// Webhooks specification defines them: the webhook-id, webhook-timestamp and
// webhook-signature headers, with "v1," HMAC-SHA256 signatures.
//
// herald signs every delivery with Sign; receivers written in Go check them
// with a Verifier or wrap their handler in Middleware. Receivers in other
// languages use the Standard Webhooks libraries: the formats are the same.
//
// This package imports the standard library only.
package verify

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix marks a secret whose rest is the base64-encoded key.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a webhook-timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// Errors returned by Verify; each failure has its own so a receiver can log
// why a request was refused.
var (
	ErrMissingHeaders      = errors.New("verify: missing webhook-id, webhook-timestamp or webhook-signature header")
	ErrInvalidTimestamp    = errors.New("verify: webhook-timestamp is not Unix seconds")
	ErrTimestampTooOld     = errors.New("verify: webhook-timestamp is too old")
	ErrTimestampTooNew     = errors.New("verify: webhook-timestamp is too far in the future")
	ErrNoMatchingSignature = errors.New("verify: no signature matches")
	ErrInvalidSecret       = errors.New("verify: invalid secret")
)

// SecretKey returns the HMAC key of a secret: the base64-decoded rest of a
// "whsec_" secret, or the secret's own bytes otherwise.
func SecretKey(secret string) ([]byte, error) {
	if secret == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}
	rest, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return []byte(secret), nil
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, fmt.Errorf("%w: the part after %q is not base64", ErrInvalidSecret, SecretPrefix)
	}
	return key, nil
}

// Sign returns the "v1,<base64>" signature of one message.
func Sign(key []byte, id string, timestamp time.Time, body []byte) string {
	mac := hmac.New(sha256.New, key)
	ts := strconv.FormatInt(timestamp.Unix(), 10)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// Verifier checks signed requests against one or more secrets; more than one
// lets a receiver accept both sides of a secret rotation.
type Verifier struct {
	keys [][]byte
	// Tolerance is how far the timestamp may be from Now. Defaults to
	// DefaultTolerance.
	Tolerance time.Duration
	// Now returns the current time. Defaults to time.Now.
	Now func() time.Time
}

// NewVerifier returns a Verifier that accepts a signature made with any of
// the secrets. It returns ErrInvalidSecret if a secret cannot be decoded.
func NewVerifier(secrets ...string) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: none given", ErrInvalidSecret)
	}
	v := &Verifier{}
	for _, s := range secrets {
		key, err := SecretKey(s)
		if err != nil {
			return nil, err
		}
		v.keys = append(v.keys, key)
	}
	return v, nil
}

// Verify checks the headers of a request against its raw body. It returns
// nil when a v1 signature made with one of the secrets matches and the
// timestamp is within the tolerance.
func (v *Verifier) Verify(body []byte, header http.Header) error {
	id, ts, sigs := header.Get(HeaderID), header.Get(HeaderTimestamp), header.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrInvalidTimestamp
	}
	now, tolerance := time.Now, v.Tolerance
	if v.Now != nil {
		now = v.Now
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sent := time.Unix(secs, 0)
	switch {
	case now().Sub(sent) > tolerance:
		return ErrTimestampTooOld
	case sent.Sub(now()) > tolerance:
		return ErrTimestampTooNew
	}
	for _, key := range v.keys {
		want := Sign(key, id, sent, body)
		for _, got := range strings.Fields(sigs) {
			// hmac.Equal is constant-time, so a forger learns nothing
			// from how long a comparison took.
			if hmac.Equal([]byte(got), []byte(want)) {
				return nil
			}
		}
	}
	return ErrNoMatchingSignature
}

// MaxBodyBytes bounds the body Middleware reads.
const MaxBodyBytes = 1 << 20

// Middleware answers 401 to requests whose signature does not verify and
// passes the others to next, with the body restored so next can read it.
func Middleware(v *Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
		if err != nil {
			http.Error(w, "cannot read body", http.StatusRequestEntityTooLarge)
			return
		}
		if err := v.Verify(body, r.Header); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}
