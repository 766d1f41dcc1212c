package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func testAPIKeys(t *testing.T, s herald.Store) {
	ctx := context.Background()
	keyA, keyB := herald.GenerateAPIKey(), herald.GenerateAPIKey()
	for i, k := range []struct{ tenant, key string }{{"acme", keyA}, {"globex", keyB}} {
		err := s.CreateAPIKey(ctx, &herald.APIKey{ID: "key_" + k.tenant, TenantID: k.tenant,
			Hash: herald.HashAPIKey(k.key), Hint: herald.APIKeyHint(k.key), CreatedAt: t0.Add(time.Duration(i) * time.Second)})
		if err != nil {
			t.Fatalf("CreateAPIKey: %v", err)
		}
	}
	dup := &herald.APIKey{ID: "key_dup", TenantID: "acme", Hash: herald.HashAPIKey(keyA), CreatedAt: t0}
	wantCode(t, s.CreateAPIKey(ctx, dup), herald.CodeConflict)
	if tenant, err := s.TenantForAPIKey(ctx, herald.HashAPIKey(keyB)); err != nil || tenant != "globex" {
		t.Fatalf("TenantForAPIKey(B) = %q, %v", tenant, err)
	}
	_, err := s.TenantForAPIKey(ctx, herald.HashAPIKey("hk_unknown"))
	wantCode(t, err, herald.CodeUnauthorized)

	if err := s.RevokeAPIKey(ctx, "key_acme", t0); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	_, err = s.TenantForAPIKey(ctx, herald.HashAPIKey(keyA))
	wantCode(t, err, herald.CodeUnauthorized)
	wantCode(t, s.RevokeAPIKey(ctx, "key_acme", t0), herald.CodeNotFound)

	keys, err := s.ListAPIKeys(ctx)
	if err != nil || len(keys) != 2 || keys[0].ID != "key_acme" || keys[0].RevokedAt.IsZero() || !keys[1].RevokedAt.IsZero() {
		t.Fatalf("ListAPIKeys = %+v, %v", keys, err)
	}
	if keys[1].Hash != herald.HashAPIKey(keyB) || keys[1].Hint == "" {
		t.Fatalf("stored key = %+v", keys[1])
	}
}
