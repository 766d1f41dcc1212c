package herald_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/heraldhq/herald"
)

func TestMatchEvent(t *testing.T) {
	tests := []struct {
		pattern, event string
		want           bool
	}{
		{"*", "batch.failed", true},
		{"template.*", "template.completed", true},
		{"template.*", "templates.completed", false},
		{"template.*", "batch.failed", false},
		{"batch.failed", "batch.failed", true},
		{"batch.failed", "batch.failed.extra", false},
	}
	for _, tt := range tests {
		if got := herald.MatchEvent(tt.pattern, tt.event); got != tt.want {
			t.Errorf("MatchEvent(%q, %q) = %v, want %v", tt.pattern, tt.event, got, tt.want)
		}
	}
}

func TestNewEventTypes(t *testing.T) {
	types, err := herald.NewEventTypes("order.created", "order.created")
	if err != nil {
		t.Fatal(err)
	}
	if !types.Known("order.created") || !types.Known("batch.failed") || types.Known("order.deleted") {
		t.Fatalf("Known gives wrong answers for %v", types.Names())
	}
	if len(types.Names()) != 5 {
		t.Fatalf("Names() = %v, want the 4 built-ins and order.created once", types.Names())
	}
	for _, bad := range []string{"", "Order.Created", "order..created", "order created", ".x"} {
		if _, err := herald.NewEventTypes(bad); herald.ErrorCodeOf(err) != herald.CodeInvalid {
			t.Errorf("NewEventTypes(%q) = %v, want CodeInvalid", bad, err)
		}
	}
}

func TestRenderPayload(t *testing.T) {
	at := time.Unix(1767225600, 0)
	p, err := herald.RenderPayload("evt_1", "batch.failed", at, json.RawMessage(` {"n": 1} `))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"id":"evt_1","event":"batch.failed","timestamp":1767225600,"data":{"n":1}}`; string(p.Body) != want {
		t.Fatalf("body = %s, want %s", p.Body, want)
	}
	empty, _ := herald.RenderPayload("evt_2", "batch.failed", at, nil)
	if want := `{"id":"evt_2","event":"batch.failed","timestamp":1767225600,"data":{}}`; string(empty.Body) != want {
		t.Fatalf("body = %s, want %s", empty.Body, want)
	}
	for _, bad := range []string{`[1]`, `"x"`, `{"a":`} {
		if _, err := herald.RenderPayload("e", "batch.failed", at, json.RawMessage(bad)); herald.ErrorCodeOf(err) != herald.CodeInvalid {
			t.Errorf("RenderPayload(data=%s) = %v, want CodeInvalid", bad, err)
		}
	}
}
