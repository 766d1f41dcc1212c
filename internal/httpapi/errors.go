package httpapi

import (
	"errors"
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/types"
)

// statusOf maps each domain code to its HTTP status and error type. This
// table is the only place herald chooses an error status.
var statusOf = map[herald.ErrorCode]struct {
	status int
	typ    string
}{
	herald.CodeInvalid:      {http.StatusBadRequest, "invalid_request_error"},
	herald.CodeNotFound:     {http.StatusNotFound, "invalid_request_error"},
	herald.CodeConflict:     {http.StatusConflict, "invalid_request_error"},
	herald.CodeUnauthorized: {http.StatusUnauthorized, "authentication_error"},
	herald.CodeTooLarge:     {http.StatusRequestEntityTooLarge, "invalid_request_error"},
	herald.CodeRateLimited:  {http.StatusTooManyRequests, "rate_limit_error"},
	herald.CodeUnavailable:  {http.StatusServiceUnavailable, "api_error"},
	herald.CodeInternal:     {http.StatusInternalServerError, "api_error"},
}

// writeError answers with err. An error that is not a *herald.Error is a
// bug or an outage: it is logged and answered "internal error", so its text
// (which may hold driver detail) never reaches the caller.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he *herald.Error
	if !errors.As(err, &he) || he.Code == herald.CodeInternal {
		s.cfg.Logger.ErrorContext(r.Context(), "request failed",
			"method", r.Method, "path", r.URL.Path, "request_id", w.Header().Get(requestIDHeader), "err", err)
		he = &herald.Error{Code: herald.CodeInternal, Message: "internal error"}
	}
	st, ok := statusOf[he.Code]
	if !ok {
		st = statusOf[herald.CodeInternal]
	}
	writeJSON(w, st.status, types.ErrorResponse{Error: &types.ErrorDetail{
		Code:    string(he.Code),
		Type:    st.typ,
		Message: he.Message,
		Field:   he.Field,
	}})
}
