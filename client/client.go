// Package client is herald's Go SDK: one method per REST endpoint, with
// the wire types of package types.
//
// Calls that fail for a passing reason (a dropped connection, 429, 502,
// 503, 504) are retried with backoff. Every POST carries an Idempotency-Key
// that stays the same across its retries, so a retry never registers or
// publishes twice. API errors are returned as *types.ErrorDetail.
//
// This package imports the standard library and types only.
package client

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/heraldhq/herald/types"
)

// Client defaults.
const (
	DefaultMaxRetries = 3
	DefaultTimeout    = 30 * time.Second
	// maxRetryWait caps a server's Retry-After that the client obeys.
	maxRetryWait = 30 * time.Second
)

// Config configures a Client.
type Config struct {
	// BaseURL is herald's address, such as "http://127.0.0.1:8080".
	BaseURL string
	// Token is the API key, sent as "Authorization: Bearer <Token>".
	// Defaults to none.
	Token string
	// HTTPClient makes the requests. Defaults to a client with
	// DefaultTimeout.
	HTTPClient *http.Client
	// MaxRetries is how often a call is retried after a passing failure.
	// Defaults to DefaultMaxRetries; negative disables retries.
	MaxRetries int
	// UserAgent is sent with every request. Defaults to "herald-go".
	UserAgent string
}

// Client calls herald's REST API. It is safe for concurrent use.
type Client struct {
	cfg  Config
	base string
}

// New returns a Client for cfg.
func New(cfg Config) *Client {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: DefaultTimeout}
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "herald-go"
	}
	return &Client{cfg: cfg, base: strings.TrimRight(cfg.BaseURL, "/") + "/api/v1"}
}

// do sends one API call and decodes the "data" of its answer into out.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("herald: encode request: %w", err)
		}
	}
	target := c.base + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	idempotencyKey := ""
	if method == http.MethodPost {
		idempotencyKey = newIdempotencyKey()
	}
	retries := max(c.cfg.MaxRetries, 0)
	for attempt := 0; ; attempt++ {
		wait, err := c.send(ctx, method, target, idempotencyKey, body, out)
		if wait < 0 || attempt >= retries {
			return err
		}
		if wait == 0 {
			wait = backoff(attempt)
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// send makes one request. It returns a negative wait when the outcome is
// final, else how long to wait before retrying (0: the client's backoff).
func (c *Client) send(ctx context.Context, method, target, idempotencyKey string, body []byte, out any) (time.Duration, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return -1, fmt.Errorf("herald: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	if c.cfg.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Token)
	}
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return -1, fmt.Errorf("herald: %w", err)
		}
		return 0, fmt.Errorf("herald: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, fmt.Errorf("herald: read answer: %w", err)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if out == nil {
			return -1, nil
		}
		env := struct {
			Data any `json:"data"`
		}{Data: out}
		if err := json.Unmarshal(raw, &env); err != nil {
			return -1, fmt.Errorf("herald: decode answer: %w", err)
		}
		return -1, nil
	}
	apiErr := decodeError(resp, raw)
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return retryAfter(resp.Header.Get("Retry-After")), apiErr
	}
	return -1, apiErr
}

func decodeError(resp *http.Response, raw []byte) *types.ErrorDetail {
	var env types.ErrorResponse
	if err := json.Unmarshal(raw, &env); err != nil || env.Error == nil {
		env.Error = &types.ErrorDetail{
			Code:    "http_" + strconv.Itoa(resp.StatusCode),
			Type:    "api_error",
			Message: strings.TrimSpace(http.StatusText(resp.StatusCode) + ": " + firstLine(raw)),
		}
	}
	env.Error.StatusCode = resp.StatusCode
	env.Error.RequestID = resp.Header.Get("X-Request-ID")
	return env.Error
}

func firstLine(b []byte) string {
	s, _, _ := strings.Cut(string(b), "\n")
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// backoff is 200 ms doubling per attempt, with up to 20% taken off at
// random so that many clients do not retry in step.
func backoff(attempt int) time.Duration {
	d := 200 * time.Millisecond * time.Duration(math.Pow(2, float64(attempt)))
	var b [1]byte
	rand.Read(b[:])
	return d - d*time.Duration(b[0])/(5*255)
}

func retryAfter(v string) time.Duration {
	secs, err := strconv.Atoi(v)
	if err != nil || secs <= 0 {
		return 0
	}
	return min(time.Duration(secs)*time.Second, maxRetryWait)
}

func newIdempotencyKey() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
