package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/types"
)

// envelope wraps every success body.
type envelope struct {
	Data any `json:"data"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeData(w http.ResponseWriter, status int, v any) {
	writeJSON(w, status, envelope{Data: v})
}

// decodeJSON reads one JSON object into v, refusing unknown fields and
// trailing data, and turns every failure into an error that names the
// field and the rule. The body size limit is set by the server's
// middleware; going over it is CodeTooLarge.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return herald.Invalidf("", "request body must hold one JSON object and nothing after it")
	}
	if m := metadataOf(v); m != nil && m.RequestID != "" {
		w.Header().Set(requestIDHeader, sanitizeRequestID(m.RequestID))
	}
	return nil
}

func jsonError(err error) error {
	var (
		syntax *json.SyntaxError
		typ    *json.UnmarshalTypeError
		tooBig *http.MaxBytesError
	)
	switch {
	case errors.As(err, &tooBig):
		return herald.Errorf(herald.CodeTooLarge, "request body must be at most %d bytes", tooBig.Limit)
	case errors.Is(err, io.EOF):
		return herald.Invalidf("", "request body is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return herald.Invalidf("", "malformed JSON: unexpected end of body")
	case errors.As(err, &syntax):
		return herald.Invalidf("", "malformed JSON at byte %d: %s", syntax.Offset, syntax.Error())
	case errors.As(err, &typ):
		return herald.Invalidf(typ.Field, "must be %s, got JSON %s", jsonTypeName(typ.Type.Kind().String()), typ.Value)
	}
	// encoding/json reports unknown fields only in its message; the
	// format is documented ("json: unknown field \"name\"").
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		return herald.Invalidf(name, "unknown field %q", name)
	}
	return herald.Invalidf("", "malformed JSON: %s", err.Error())
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "float32", "float64":
		return "a number"
	}
	return fmt.Sprintf("a number fitting %s", kind)
}

// metadataOf finds the optional request metadata of a decoded body.
func metadataOf(v any) *types.RequestMetadata {
	if m, ok := v.(interface{ metadata() *types.RequestMetadata }); ok {
		return m.metadata()
	}
	return nil
}
