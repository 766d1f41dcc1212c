// Package sealed encrypts webhook secrets at rest with AES-256-GCM. Its
// Store wraps any herald.Store: secrets are sealed on the way in and
// opened on the way out, so the stores themselves never see a plaintext
// secret once a key is set.
//
// It imports the herald domain only.
package sealed

import (
	"cmp"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/heraldhq/herald"
)

// prefix marks a sealed value; anything without it is plaintext, written
// before a key was set.
const prefix = "sealed:v1:"

// KeySize is the length of an encryption key: AES-256.
const KeySize = 32

// Keys seals with its first key and opens with any of them, so a key can
// be rotated: put the new one first and keep the old one until every
// secret has been sealed again.
type Keys struct {
	aeads []cipher.AEAD
}

// ParseKeys reads a comma-separated list of 32-byte keys, each in
// standard base64 or hex. An empty string yields nil: no encryption.
func ParseKeys(s string) (*Keys, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	k := &Keys{}
	for i, part := range strings.Split(s, ",") {
		raw, err := decodeKey(strings.TrimSpace(part))
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		k.aeads = append(k.aeads, aead)
	}
	return k, nil
}

func decodeKey(s string) ([]byte, error) {
	if b, err := hex.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) == KeySize {
		return b, nil
	}
	return nil, fmt.Errorf("want %d random bytes in base64 (44 characters) or hex (64), such as the output of 'openssl rand -base64 32'", KeySize)
}

// Seal encrypts plain, bound to context (the webhook id), so a sealed
// value copied to another row does not open there.
func (k *Keys) Seal(plain, context string) string {
	if plain == "" {
		return ""
	}
	aead := k.aeads[0]
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	rand.Read(nonce)
	return prefix + base64.RawStdEncoding.EncodeToString(aead.Seal(nonce, nonce, []byte(plain), []byte(context)))
}

// errWrongKey means no key opens a sealed value.
var errWrongKey = errors.New("no key opens it")

// open decrypts a sealed value and reports whether it was sealed with
// the first key. k may be nil; then only plaintext opens.
func (k *Keys) open(value, context string) (plain string, current bool, err error) {
	body, ok := strings.CutPrefix(value, prefix)
	if !ok {
		return value, false, nil // plaintext from before a key was set
	}
	if k == nil {
		return "", false, errNoKey
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil {
		return "", false, fmt.Errorf("malformed sealed value: %w", err)
	}
	for i, aead := range k.aeads {
		if len(raw) < aead.NonceSize() {
			break
		}
		out, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(context))
		if err == nil {
			return string(out), i == 0, nil
		}
	}
	return "", false, errWrongKey
}

var errNoKey = errors.New("no key is set")

// Store seals webhook secrets of the Store it wraps. With nil Keys it
// stores secrets as given, and fails clearly on any it cannot open.
type Store struct {
	herald.Store
	keys *Keys
}

var _ herald.Store = (*Store)(nil)

// Wrap returns inner with its webhook secrets sealed by keys (nil: not
// sealed).
func Wrap(inner herald.Store, keys *Keys) *Store {
	return &Store{Store: inner, keys: keys}
}

// seal returns a copy of w with sealed secrets.
func (s *Store) seal(w *herald.Webhook) *herald.Webhook {
	if s.keys == nil {
		return w
	}
	c := *w
	c.Secret = s.keys.Seal(w.Secret, w.ID)
	c.PreviousSecret = s.keys.Seal(w.PreviousSecret, w.ID)
	return &c
}

// open decrypts w's secrets in place.
func (s *Store) open(w *herald.Webhook) error {
	for _, secret := range []*string{&w.Secret, &w.PreviousSecret} {
		plain, _, err := s.keys.open(*secret, w.ID)
		if err != nil {
			return openError(w.ID, err)
		}
		*secret = plain
	}
	return nil
}

// openError explains a secret that cannot be opened without saying
// anything of the secret itself.
func openError(id string, err error) error {
	if errors.Is(err, errNoKey) {
		return herald.Errorf(herald.CodeUnavailable,
			"webhook %s's secret is encrypted at rest, and herald has no HERALD_ENCRYPTION_KEY: restart it with the key that encrypted it", id)
	}
	return herald.Errorf(herald.CodeUnavailable,
		"webhook %s's secret cannot be decrypted (%v): HERALD_ENCRYPTION_KEY does not hold the key that encrypted it", id, err)
}

// CreateWebhook stores w with its secrets sealed.
func (s *Store) CreateWebhook(ctx context.Context, w *herald.Webhook, maxPerTenant int) error {
	return s.Store.CreateWebhook(ctx, s.seal(w), maxPerTenant)
}

// GetWebhook returns the webhook with its secrets opened.
func (s *Store) GetWebhook(ctx context.Context, tenantID, id string) (*herald.Webhook, error) {
	w, err := s.Store.GetWebhook(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	return w, s.open(w)
}

// ListWebhooks returns a page of webhooks with their secrets opened.
func (s *Store) ListWebhooks(ctx context.Context, tenantID string, f herald.WebhookFilter) ([]*herald.Webhook, int, error) {
	list, total, err := s.Store.ListWebhooks(ctx, tenantID, f)
	if err != nil {
		return nil, 0, err
	}
	for _, w := range list {
		if err := s.open(w); err != nil {
			return nil, 0, err
		}
	}
	return list, total, nil
}

// UpdateWebhook lets fn change the webhook with its secrets opened, and
// writes them back sealed.
func (s *Store) UpdateWebhook(ctx context.Context, tenantID, id string, fn func(*herald.Webhook) error) (*herald.Webhook, error) {
	var opened *herald.Webhook
	_, err := s.Store.UpdateWebhook(ctx, tenantID, id, func(w *herald.Webhook) error {
		if err := s.open(w); err != nil {
			return err
		}
		if err := fn(w); err != nil {
			return err
		}
		c := *w
		opened = &c
		*w = *s.seal(w)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return opened, nil
}

// CompleteIdempotent stores a replayable answer sealed: a register
// answer carries the new webhook's secret.
func (s *Store) CompleteIdempotent(ctx context.Context, tenantID, key string, statusCode int, body []byte) error {
	if s.keys != nil {
		body = []byte(s.keys.Seal(string(body), idempotencyContext(tenantID, key)))
	}
	return s.Store.CompleteIdempotent(ctx, tenantID, key, statusCode, body)
}

// BeginIdempotent returns an earlier answer opened.
func (s *Store) BeginIdempotent(ctx context.Context, tenantID, key, fingerprint string, now time.Time) (*herald.IdempotencyRecord, error) {
	rec, err := s.Store.BeginIdempotent(ctx, tenantID, key, fingerprint, now)
	if err != nil || rec == nil || !rec.Done {
		return rec, err
	}
	body, _, err := s.keys.open(string(rec.Body), idempotencyContext(tenantID, key))
	if err != nil {
		return nil, herald.Errorf(herald.CodeUnavailable,
			"the answer saved for this Idempotency-Key is encrypted and cannot be decrypted with herald's HERALD_ENCRYPTION_KEY (%v)", err)
	}
	rec.Body = []byte(body)
	return rec, nil
}

func idempotencyContext(tenantID, key string) string {
	return "idempotency\x00" + tenantID + "\x00" + key
}

// Prepare readies the tenants' webhooks for this set of keys, at start:
// it seals every secret that is plaintext or sealed with an older key,
// and fails, naming the cause, if any secret cannot be opened (it is
// sealed and no key, or the wrong key, is set). It returns how many
// webhooks it sealed again. Several processes may run it at once.
func (s *Store) Prepare(ctx context.Context, tenants []string) (int, error) {
	resealed, unopenable, firstErr := 0, 0, error(nil)
	for _, tenant := range tenants {
		for offset := 0; ; offset += pageSize {
			page, _, err := s.Store.ListWebhooks(ctx, tenant, herald.WebhookFilter{Limit: pageSize, Offset: offset})
			if err != nil {
				return resealed, err
			}
			for _, w := range page {
				current, err := s.current(w)
				switch {
				case err != nil:
					unopenable++
					firstErr = cmp.Or(firstErr, err)
				case !current && s.keys != nil:
					_, err := s.UpdateWebhook(ctx, tenant, w.ID, func(*herald.Webhook) error { return nil })
					if err != nil && herald.ErrorCodeOf(err) != herald.CodeNotFound { // not deleted meanwhile
						return resealed, err
					}
					resealed++
				}
			}
			if len(page) < pageSize {
				break
			}
		}
	}
	if unopenable > 0 {
		return resealed, fmt.Errorf("%d webhook(s) have secrets herald cannot decrypt; the first: %w", unopenable, firstErr)
	}
	return resealed, nil
}

const pageSize = 100

// current reports whether w's stored secrets are all sealed with the
// first key, or an error if one cannot be opened.
func (s *Store) current(w *herald.Webhook) (bool, error) {
	all := true
	for _, secret := range []string{w.Secret, w.PreviousSecret} {
		if secret == "" {
			continue
		}
		_, current, err := s.keys.open(secret, w.ID)
		if err != nil {
			return false, openError(w.ID, err)
		}
		all = all && current
	}
	return all, nil
}
