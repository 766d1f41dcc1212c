package herald

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"time"
)

// BuiltinEventTypes are the event types every herald knows. Operators add
// more with EventTypes.
var BuiltinEventTypes = []string{
	"template.completed",
	"template.failed",
	"batch.completed",
	"batch.failed",
}

// MaxEventTypeLength bounds an event type name.
const MaxEventTypeLength = 128

// eventTypePattern is dot-separated lower-case segments: "batch.completed".
var eventTypePattern = regexp.MustCompile(`^[a-z0-9_-]+(\.[a-z0-9_-]+)*$`)

// Event is one published fact.
type Event struct {
	ID       string
	TenantID string
	Type     string
	// Payload is the exact body every receiver gets for this event,
	// rendered once at publish time.
	Payload   []byte
	CreatedAt time.Time
}

// EventTypes is the set of event types a herald accepts.
type EventTypes struct {
	names []string // sorted
}

// NewEventTypes returns the built-in types plus extra. It returns
// CodeInvalid if an extra name is malformed.
func NewEventTypes(extra ...string) (*EventTypes, error) {
	names := slices.Clone(BuiltinEventTypes)
	for _, name := range extra {
		if err := checkEventTypeName(name); err != nil {
			return nil, err
		}
		names = append(names, name)
	}
	slices.Sort(names)
	return &EventTypes{names: slices.Compact(names)}, nil
}

func checkEventTypeName(name string) error {
	if len(name) > MaxEventTypeLength || !eventTypePattern.MatchString(name) {
		return Invalidf("event", "%q is not a valid event type: use dot-separated lower-case words, such as \"order.created\"", name)
	}
	return nil
}

// Names returns the known types in sorted order.
func (t *EventTypes) Names() []string { return slices.Clone(t.names) }

// Known reports whether name is a known event type.
func (t *EventTypes) Known(name string) bool {
	_, ok := slices.BinarySearch(t.names, name)
	return ok
}

// CheckType returns CodeInvalid naming field if name is not a known type.
func (t *EventTypes) CheckType(field, name string) error {
	if !t.Known(name) {
		return Invalidf(field, "unknown event type %q; known types: %s", name, strings.Join(t.names, ", "))
	}
	return nil
}

// CheckSubscription validates one entry of a webhook's event list: a known
// type, "*", or a prefix wildcard such as "template.*" that matches at least
// one known type (so a typo is caught when it is registered, not when events
// silently fail to arrive).
func (t *EventTypes) CheckSubscription(field, pattern string) error {
	if pattern == "*" {
		return nil
	}
	if prefix, ok := strings.CutSuffix(pattern, ".*"); ok {
		if !eventTypePattern.MatchString(prefix) {
			return Invalidf(field, "%q is not a valid wildcard: use \"*\" or a prefix such as \"template.*\"", pattern)
		}
		if !slices.ContainsFunc(t.names, func(n string) bool { return MatchEvent(pattern, n) }) {
			return Invalidf(field, "wildcard %q matches no known event type; known types: %s", pattern, strings.Join(t.names, ", "))
		}
		return nil
	}
	return t.CheckType(field, pattern)
}

// MatchEvent reports whether a subscription pattern matches an event type.
func MatchEvent(pattern, eventType string) bool {
	if pattern == "*" {
		return true
	}
	if prefix, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(eventType, prefix)
	}
	return pattern == eventType
}

// Payload is the body receivers get for one event.
type Payload struct {
	ID   string
	Body []byte
}

// RenderPayload renders the body of CONTRACT §5:
// {"id", "event", "timestamp" (Unix seconds), "data"}. data must be a JSON
// object, or empty for {}. It returns CodeInvalid naming "data" otherwise.
func RenderPayload(id, eventType string, at time.Time, data json.RawMessage) (Payload, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || bytes.Equal(data, []byte("null")) {
		data = json.RawMessage("{}")
	}
	if data[0] != '{' || !json.Valid(data) {
		return Payload{}, Invalidf("data", "must be a JSON object")
	}
	body, err := json.Marshal(struct {
		ID        string          `json:"id"`
		Event     string          `json:"event"`
		Timestamp int64           `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{id, eventType, at.Unix(), data})
	return Payload{ID: id, Body: body}, err
}
