package verify_test

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/heraldhq/herald/verify"
)

func ExampleVerifier_Verify() {
	// What herald sends: the body and the Standard Webhooks headers.
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"id":"evt_1","event":"batch.completed","timestamp":1767225600,"data":{}}`)
	sent := time.Now()
	key, _ := verify.SecretKey(secret)
	header := http.Header{}
	header.Set("webhook-id", "evt_1")
	header.Set("webhook-timestamp", strconv.FormatInt(sent.Unix(), 10))
	header.Set("webhook-signature", verify.Sign(key, "evt_1", sent, body))

	// What the receiver does.
	v, err := verify.NewVerifier(secret)
	if err != nil {
		panic(err)
	}
	fmt.Println("genuine:", v.Verify(body, header) == nil)
	fmt.Println("tampered:", v.Verify([]byte(`{"id":"evt_1"}`), header))
	// Output:
	// genuine: true
	// tampered: verify: no signature matches
}

func ExampleMiddleware() {
	v, err := verify.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	http.Handle("POST /webhooks", verify.Middleware(v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// r.Body is the verified body.
		w.WriteHeader(http.StatusNoContent)
	})))
	fmt.Println("listening")
	// Output: listening
}
