// Package types holds herald's wire types: the JSON bodies of its REST API,
// shared by the server and the Go SDK.
//
// Times are Unix seconds and durations int32 milliseconds, as on the wire.
// This package imports the standard library only, so an application that
// uses the SDK pulls in no database driver.
package types

import "fmt"

// RequestMetadata may ride along in any request body. herald reads
// RequestID, echoes it in the X-Request-ID response header, and ignores the
// rest.
type RequestMetadata struct {
	RequestID       string            `json:"request_id,omitempty"`
	ProtocolVersion string            `json:"protocol_version,omitempty"`
	ClientVersion   string            `json:"client_version,omitempty"`
	ClientID        string            `json:"client_id,omitempty"`
	ClientType      string            `json:"client_type,omitempty"`
	Timestamp       int64             `json:"timestamp,omitempty"`
	CustomHeaders   map[string]string `json:"custom_headers,omitempty"`
}

// ErrorDetail is the body of every error answer, under "error". The SDK
// returns it as the error of a failed call; use errors.As to inspect it.
type ErrorDetail struct {
	// Code is machine-readable: invalid, not_found, conflict,
	// unauthorized, too_large, rate_limited, unavailable, internal.
	Code string `json:"code"`
	// Type groups codes the way Stripe's API does: invalid_request_error,
	// authentication_error, rate_limit_error, api_error.
	Type    string `json:"type"`
	Message string `json:"message"`
	// Field is the JSON path of the input at fault, when there is one.
	Field string `json:"field,omitempty"`

	// StatusCode is the HTTP status of the answer (not sent as JSON).
	StatusCode int `json:"-"`
	// RequestID is the answer's X-Request-ID header (not sent as JSON).
	RequestID string `json:"-"`
}

// Error implements the error interface.
func (e *ErrorDetail) Error() string {
	msg := fmt.Sprintf("herald: %s (%d %s)", e.Message, e.StatusCode, e.Code)
	if e.Field != "" {
		msg = fmt.Sprintf("herald: %s: %s (%d %s)", e.Field, e.Message, e.StatusCode, e.Code)
	}
	return msg
}

// ErrorResponse is the envelope of an error answer.
type ErrorResponse struct {
	Error *ErrorDetail `json:"error"`
}

// Health is the answer of GET /health.
type Health struct {
	Status    string `json:"status"`
	Timestamp string `json:"timestamp"`
	Version   string `json:"version"`
}

// Readiness is the answer of GET /ready.
type Readiness struct {
	Status    string            `json:"status"`
	Timestamp string            `json:"timestamp"`
	Checks    map[string]string `json:"checks"`
}
