package herald

import (
	"errors"
	"fmt"
)

// ErrorCode classifies an Error. Only the httpapi package maps codes to HTTP
// statuses; everything below it speaks in codes.
type ErrorCode string

// The error codes herald returns.
const (
	CodeInvalid      ErrorCode = "invalid"      // the input breaks a rule; Field names it
	CodeNotFound     ErrorCode = "not_found"    // no such id for this tenant
	CodeConflict     ErrorCode = "conflict"     // the request clashes with current state
	CodeUnauthorized ErrorCode = "unauthorized" // missing or unknown API key
	CodeTooLarge     ErrorCode = "too_large"    // a body or payload over its limit
	CodeRateLimited  ErrorCode = "rate_limited" // too many requests
	CodeUnavailable  ErrorCode = "unavailable"  // a dependency is down; try again
	CodeInternal     ErrorCode = "internal"     // a bug or an unexpected failure
)

// Error is herald's one error type. Its Message is safe to show to the
// caller: it never carries secrets or driver text.
type Error struct {
	Code    ErrorCode
	Message string
	// Field is the JSON path of the offending input, such as "config.url",
	// when one field is to blame.
	Field string
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("herald: %s: %s", e.Field, e.Message)
	}
	return "herald: " + e.Message
}

// Errorf returns an Error with the given code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf returns a CodeInvalid Error that blames field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf returns a CodeNotFound Error.
func NotFoundf(format string, args ...any) *Error {
	return Errorf(CodeNotFound, format, args...)
}

// TooManyWebhooks is the CodeConflict error for a tenant at its webhook
// cap.
func TooManyWebhooks(max int) *Error {
	return Errorf(CodeConflict, "this tenant already has the most webhooks allowed (%d); delete one, or raise the cap with --max-webhooks", max)
}

// ErrorCodeOf returns the code of the first *Error in err's chain, or
// CodeInternal when there is none.
func ErrorCodeOf(err error) ErrorCode {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// prefixField re-roots a field-level error under parent, so that a rule
// checked on a nested value reports the path the caller sent.
func prefixField(err error, parent string) error {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeInvalid {
		c := *e
		if c.Field == "" {
			c.Field = parent
		} else {
			c.Field = parent + "." + c.Field
		}
		return &c
	}
	return err
}
