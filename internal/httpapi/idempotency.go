package httpapi

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	"github.com/heraldhq/herald"
)

const (
	idempotencyKeyHeader = "Idempotency-Key"
	maxIdempotencyKeyLen = 255
)

// idempotent makes a POST sent with an Idempotency-Key safe to retry: the
// first request runs, and every later one with the same key gets the first
// answer (marked Idempotent-Replayed) and changes nothing. The key is
// claimed in the store before the request runs, so two copies racing each
// other cannot both run: the second gets 409 while the first is in flight.
func (s *Server) idempotent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get(idempotencyKeyHeader)
		if key == "" {
			next.ServeHTTP(w, r)
			return
		}
		if len(key) > maxIdempotencyKeyLen {
			s.writeError(w, r, herald.Invalidf(idempotencyKeyHeader, "must be at most %d bytes", maxIdempotencyKeyLen))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			s.writeError(w, r, jsonError(err))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		sum := sha256.Sum256(append([]byte(r.Method+" "+r.URL.Path+"\n"), body...))
		fingerprint := hex.EncodeToString(sum[:])

		ctx, tenant := r.Context(), tenantOf(r.Context())
		rec, err := s.cfg.Store.BeginIdempotent(ctx, tenant, key, fingerprint, s.cfg.Now())
		switch {
		case err != nil:
			s.writeError(w, r, err)
			return
		case rec != nil && rec.Fingerprint != fingerprint:
			s.writeError(w, r, &herald.Error{Code: herald.CodeConflict, Field: idempotencyKeyHeader,
				Message: "this Idempotency-Key was already used with a different request"})
			return
		case rec != nil && !rec.Done:
			s.writeError(w, r, &herald.Error{Code: herald.CodeConflict, Field: idempotencyKeyHeader,
				Message: "a request with this Idempotency-Key is still in progress; retry later"})
			return
		case rec != nil:
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(rec.StatusCode)
			w.Write(rec.Body)
			return
		}

		rw := &recordingWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r)
		// Answers that depend on the moment (conflicts, rate limits,
		// outages) are not remembered: a retry should run again.
		if rw.status >= 500 || rw.status == http.StatusConflict || rw.status == http.StatusTooManyRequests {
			err = s.cfg.Store.ReleaseIdempotent(ctx, tenant, key)
		} else {
			err = s.cfg.Store.CompleteIdempotent(ctx, tenant, key, rw.status, rw.body.Bytes())
		}
		if err != nil {
			s.cfg.Logger.ErrorContext(ctx, "cannot record idempotency key", "err", err)
		}
	})
}

// recordingWriter keeps a copy of the answer it passes through.
type recordingWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *recordingWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

func (w *recordingWriter) Write(b []byte) (int, error) {
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}
