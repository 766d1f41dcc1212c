package herald

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"regexp"
	"time"
)

// APIKeyPrefix starts every key herald generates, so a leaked key is easy
// to recognise in logs and secret scanners.
const APIKeyPrefix = "hk_"

// APIKey gives its holder a tenant. herald stores only the key's hash.
type APIKey struct {
	ID       string
	TenantID string
	// Hash is HashAPIKey of the key.
	Hash string
	// Hint is the key's first characters, to tell keys apart in lists.
	Hint      string
	CreatedAt time.Time
	RevokedAt time.Time // zero while the key works
}

// GenerateAPIKey returns a new random key.
func GenerateAPIKey() string {
	b := make([]byte, 32)
	rand.Read(b)
	return APIKeyPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// HashAPIKey returns the hash herald stores for key. A plain SHA-256 is
// enough: keys are 256 random bits, so there is nothing to brute-force,
// and a fast hash keeps authentication off the hot path's budget.
func HashAPIKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// APIKeyHint returns the part of a key that may be shown.
func APIKeyHint(key string) string {
	return key[:min(len(key), len(APIKeyPrefix)+4)] + "…"
}

var tenantPattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$`)

// CheckTenantName returns CodeInvalid for a tenant name herald cannot use.
func CheckTenantName(name string) error {
	if !tenantPattern.MatchString(name) {
		return Invalidf("tenant", "%q is not a valid tenant name: 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit", name)
	}
	return nil
}

// CheckAPIKey returns CodeInvalid for a key too weak to accept from
// configuration.
func CheckAPIKey(key string) error {
	if len(key) < 24 {
		return Invalidf("key", "API keys must be at least 24 characters")
	}
	return nil
}
