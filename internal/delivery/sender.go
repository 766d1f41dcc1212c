// Package delivery sends webhooks: it signs and POSTs a payload through a
// guarded dialer and reports what happened.
//
// It imports the herald domain and verify.
package delivery

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/verify"
)

// Sender defaults.
const (
	DefaultTimeout         = 15 * time.Second
	DefaultUserAgent       = "herald/dev"
	MaxResponseBodyLogged  = 4 << 10
	maxResponseBodyDrained = 64 << 10
)

// SenderConfig configures a Sender.
type SenderConfig struct {
	// Timeout bounds a whole attempt, connect to last byte. Defaults to
	// DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent with every request. Defaults to DefaultUserAgent.
	UserAgent string
	// AllowPrivateTargets lets sends reach loopback, private and
	// link-local addresses. Defaults to false.
	AllowPrivateTargets bool
	// AllowTargets lists ranges allowed even though they are private.
	// Defaults to none.
	AllowTargets []netip.Prefix
	// MaxConnsPerHost bounds idle connections kept per host. Defaults to
	// 64.
	MaxConnsPerHost int
	// Resolver resolves webhook host names, for sends and for
	// registration checks. Defaults to net.DefaultResolver.
	Resolver *net.Resolver
}

func (c SenderConfig) withDefaults() SenderConfig {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.MaxConnsPerHost <= 0 {
		c.MaxConnsPerHost = 64
	}
	if c.Resolver == nil {
		c.Resolver = net.DefaultResolver
	}
	return c
}

// Sender signs and POSTs deliveries. It is safe for concurrent use.
type Sender struct {
	cfg    SenderConfig
	guard  guard
	client *http.Client
}

// CheckTarget refuses, as a CodeInvalid error on field, a URL whose host
// is a literal address the Sender would refuse to connect to, or a name
// that resolves to one now.
func (s *Sender) CheckTarget(ctx context.Context, field, rawURL string) error {
	err := s.guard.checkURL(rawURL)
	if err == nil {
		err = s.guard.checkName(ctx, s.cfg.Resolver, rawURL)
	}
	if err != nil {
		return herald.Invalidf(field, "%s", strings.TrimPrefix(err.Error(), ErrForbiddenTarget.Error()+": "))
	}
	return nil
}

// NewSender returns a Sender with one shared keep-alive transport.
func NewSender(cfg SenderConfig) *Sender {
	cfg = cfg.withDefaults()
	g := guard{allowPrivate: cfg.AllowPrivateTargets, allow: cfg.AllowTargets}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second, Control: g.control, Resolver: cfg.Resolver}
	transport := &http.Transport{
		// No proxy from the environment: the guard must see the
		// address herald really connects to.
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          cfg.MaxConnsPerHost * 16,
		MaxIdleConnsPerHost:   cfg.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: cfg.Timeout,
	}
	return &Sender{cfg: cfg, guard: g, client: &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		// A redirect is a failed attempt: following it could lead a
		// signed payload somewhere the subscriber never registered.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Message is one signed send of a payload.
type Message struct {
	// ID is the webhook-id header: the event id, the same on every
	// attempt so receivers can drop duplicates.
	ID   string
	Body []byte
}

// Result is what one attempt found.
type Result struct {
	StatusCode int
	Latency    time.Duration
	// Err says why the attempt failed; nil on a 2xx.
	Err error
	// ResponseBody is the start of the response, at most
	// MaxResponseBodyLogged bytes.
	ResponseBody []byte
	// RetryAfter is the wait a 429 or 503 asked for, or 0.
	RetryAfter time.Duration
}

// OK reports whether the attempt succeeded.
func (r Result) OK() bool { return r.Err == nil }

// ErrStatus is the error of an attempt answered with a non-2xx status.
var ErrStatus = errors.New("non-2xx response")

// Send POSTs msg to w's URL once, signed with every current secret of w.
func (s *Sender) Send(ctx context.Context, w *herald.Webhook, msg Message, now time.Time) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(msg.Body))
	if err != nil {
		return Result{Err: err}
	}
	for name, value := range w.Headers {
		req.Header.Set(name, value)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.cfg.UserAgent)
	req.Header.Set(verify.HeaderID, msg.ID)
	req.Header.Set(verify.HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(verify.HeaderSignature, signatures(w.SigningSecrets(now), msg, now))

	start := time.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return Result{Latency: time.Since(start), Err: cleanError(err)}
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBodyLogged))
	// Drain a little more so the connection can be reused, then close.
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBodyDrained))
	resp.Body.Close()
	res := Result{StatusCode: resp.StatusCode, Latency: time.Since(start), ResponseBody: body}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		res.Err = ErrStatus
		if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
			res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
		}
	}
	return res
}

// signatures returns the webhook-signature header: one "v1," signature per
// secret, space-separated.
func signatures(secrets []string, msg Message, now time.Time) string {
	var b []byte
	for i, secret := range secrets {
		key, err := verify.SecretKey(secret)
		if err != nil {
			continue // validated when stored; an undecodable secret signs nothing
		}
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, verify.Sign(key, msg.ID, now, msg.Body)...)
	}
	return string(b)
}

// cleanError drops the "Post <url>:" wrapper of client errors, which would
// repeat the URL in every log line, and names timeouts plainly.
func cleanError(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("timed out")
	}
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return inner
		}
	}
	return err
}

// parseRetryAfter reads a Retry-After header in seconds or as an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
