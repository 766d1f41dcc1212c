package verify

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FuzzVerify: any body, id and header values verify exactly when they are
// the ones signed, and hostile headers never panic.
func FuzzVerify(f *testing.F) {
	f.Add([]byte(`{"id":"evt_1"}`), "msg_1", "1733313600", "v1,abc v2,def", []byte("x"))
	f.Add([]byte{}, "", "", "", []byte{})
	f.Add([]byte("body"), "id", "-9223372036854775808", "v1,", []byte("other"))
	f.Add([]byte("body"), "id with spaces", "99999999999999999999", "v1a,x  v1,y", []byte("body "))
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	key, err := SecretKey(secret)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Unix(1733313600, 0)
	v, err := NewVerifier(secret)
	if err != nil {
		f.Fatal(err)
	}
	v.Now = func() time.Time { return now }
	f.Fuzz(func(t *testing.T, body []byte, id, ts, sigs string, other []byte) {
		// Hostile headers: an error or, only if they hold the right
		// signature, nil.
		h := http.Header{}
		h.Set(HeaderID, id)
		h.Set(HeaderTimestamp, ts)
		h.Set(HeaderSignature, sigs)
		v.Verify(body, h)

		if id == "" {
			return
		}
		signed := http.Header{}
		signed.Set(HeaderID, id)
		signed.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
		signed.Set(HeaderSignature, Sign(key, id, now, body))
		if signed.Get(HeaderID) != id {
			return // not a value a header can carry
		}
		if err := v.Verify(body, signed); err != nil {
			t.Fatalf("a signed body does not verify: %v", err)
		}
		if string(other) != string(body) {
			if err := v.Verify(other, signed); err == nil {
				t.Fatalf("a signature for %q verified %q", body, other)
			}
		}
	})
}
