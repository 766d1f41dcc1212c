package delivery_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/dnstest"
)

func testWebhook(url string) *herald.Webhook {
	return &herald.Webhook{
		ID: "wh_1", URL: url, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		Headers: map[string]string{"X-Team": "core"}, MaxInFlight: 1,
	}
}

var msg = delivery.Message{ID: "evt_1", Body: []byte(`{"id":"evt_1","event":"batch.failed","timestamp":1,"data":{}}`)}

func TestSendSignsWithStandardWebhooks(t *testing.T) {
	got := make(chan *http.Request, 1)
	bodies := make(chan []byte, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
	}))
	defer receiver.Close()

	s := delivery.NewSender(delivery.SenderConfig{AllowPrivateTargets: true, UserAgent: "herald/test"})
	res := s.Send(context.Background(), testWebhook(receiver.URL), msg, time.Now())
	if !res.OK() || res.StatusCode != 200 {
		t.Fatalf("Send = %+v, want success", res)
	}
	r, body := <-got, <-bodies
	official, _ := standardwebhooks.NewWebhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err := official.Verify(body, r.Header); err != nil {
		t.Fatalf("official library rejects the delivery: %v", err)
	}
	for name, want := range map[string]string{
		"Content-Type": "application/json", "User-Agent": "herald/test", "X-Team": "core", "Webhook-Id": "evt_1",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
}

func TestSendFailures(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/ok", http.StatusFound)
	})
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("/busy", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "120")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, strings.Repeat("x", 10_000))
	})
	release := make(chan struct{})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-release
	})
	receiver := httptest.NewServer(mux)
	defer receiver.Close()
	defer close(release)
	s := delivery.NewSender(delivery.SenderConfig{AllowPrivateTargets: true, Timeout: 200 * time.Millisecond})
	ctx := context.Background()

	if res := s.Send(ctx, testWebhook(receiver.URL+"/redirect"), msg, time.Now()); res.OK() || res.StatusCode != http.StatusFound {
		t.Errorf("redirect: %+v, want a failed attempt with status 302 (not followed)", res)
	}
	res := s.Send(ctx, testWebhook(receiver.URL+"/busy"), msg, time.Now())
	if res.OK() || res.RetryAfter != 120*time.Second || len(res.ResponseBody) != delivery.MaxResponseBodyLogged {
		t.Errorf("503: ok=%v retry-after=%v body=%d bytes; want failure, 2m, %d bytes",
			res.OK(), res.RetryAfter, len(res.ResponseBody), delivery.MaxResponseBodyLogged)
	}
	if res := s.Send(ctx, testWebhook(receiver.URL+"/slow"), msg, time.Now()); res.OK() || res.Err.Error() != "timed out" {
		t.Errorf("slow endpoint: %+v, want a timeout", res)
	}
}

func TestSendRefusesPrivateTargets(t *testing.T) {
	var hits atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer receiver.Close()
	dns := dnstest.NewServer(t)
	dns.Set("inside.test", netip.MustParseAddr("127.0.0.1"))
	s := delivery.NewSender(delivery.SenderConfig{Resolver: dns.Resolver()})
	for _, url := range []string{receiver.URL, strings.Replace(receiver.URL, "127.0.0.1", "localhost", 1),
		strings.Replace(receiver.URL, "127.0.0.1", "inside.test", 1)} {
		res := s.Send(context.Background(), testWebhook(url), msg, time.Now())
		if res.OK() || !errors.Is(res.Err, delivery.ErrForbiddenTarget) || !strings.Contains(res.Err.Error(), "loopback") {
			t.Errorf("Send(%s) = %+v, want ErrForbiddenTarget naming loopback", url, res)
		}
	}
	if hits.Load() != 0 {
		t.Fatal("the receiver was reached")
	}
}

// TestDNSRebindingIsRefusedAtConnectTime: a name that resolved to a public
// address when it was registered, and to loopback when it is sent to, is
// refused: the guard judges the address connected to, not the one seen
// earlier.
func TestDNSRebindingIsRefusedAtConnectTime(t *testing.T) {
	var hits atomic.Int32
	receiver := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer receiver.Close()
	dns := dnstest.NewServer(t)
	s := delivery.NewSender(delivery.SenderConfig{Resolver: dns.Resolver()})
	url := strings.Replace(receiver.URL, "127.0.0.1", "rebind.test", 1)

	dns.Set("rebind.test", netip.MustParseAddr("93.184.215.14"))
	if err := s.CheckTarget(context.Background(), "url", url); err != nil {
		t.Fatalf("registration of a name resolving to a public address: %v", err)
	}
	dns.Set("rebind.test", netip.MustParseAddr("127.0.0.1"))
	if err := s.CheckTarget(context.Background(), "url", url); err == nil || !strings.Contains(err.Error(), "rebind.test resolves to 127.0.0.1, a loopback address") {
		t.Fatalf("registration after rebinding: %v, want a refusal naming the address", err)
	}
	res := s.Send(context.Background(), testWebhook(url), msg, time.Now())
	if res.OK() || !errors.Is(res.Err, delivery.ErrForbiddenTarget) {
		t.Fatalf("send after rebinding = %+v, want ErrForbiddenTarget", res)
	}
	if hits.Load() != 0 {
		t.Fatal("the rebound name reached the loopback receiver")
	}
}
