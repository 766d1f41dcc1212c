package httpapi

import (
	"net/http"
	"time"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/types"
)

// deliveryInfo converts a domain delivery to its wire form.
func deliveryInfo(d *herald.Delivery) *types.DeliveryInfo {
	out := &types.DeliveryInfo{
		ID:             d.ID,
		WebhookID:      d.WebhookID,
		EventID:        d.EventID,
		EventType:      d.EventType,
		Status:         string(d.Status),
		Attempts:       int32(d.Attempts),
		LastStatusCode: int32(d.LastStatusCode),
		LastError:      d.LastError,
		CreatedAt:      d.CreatedAt.Unix(),
		UpdatedAt:      d.UpdatedAt.Unix(),
	}
	if !d.NextAttemptAt.IsZero() {
		out.NextAttemptAt = d.NextAttemptAt.Unix()
	}
	for _, a := range d.AttemptLog {
		out.AttemptLog = append(out.AttemptLog, &types.AttemptInfo{
			Attempt:       int32(a.N),
			AttemptedAtMS: a.AttemptedAt.UnixMilli(),
			StatusCode:    int32(a.StatusCode),
			LatencyMS:     a.Latency.Milliseconds(),
			Error:         a.Error,
			ResponseBody:  a.ResponseBody,
		})
	}
	return out
}

func (s *Server) handleListDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var (
		f   herald.DeliveryFilter
		err error
	)
	if v := q.Get("status"); v != "" {
		if f.Status, err = herald.ParseDeliveryStatus("status", v); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	if f.Limit, f.Offset, err = paging(q.Get("limit"), q.Get("offset")); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, total, err := s.cfg.Store.ListDeliveries(r.Context(), tenantOf(r.Context()), r.PathValue("id"), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := types.ListDeliveriesResponse{
		Deliveries: make([]*types.DeliveryInfo, len(list)),
		Total:      int64(total), Limit: int32(f.Limit), Offset: int32(f.Offset),
	}
	for i, d := range list {
		out.Deliveries[i] = deliveryInfo(d)
	}
	writeData(w, http.StatusOK, out)
}

// handleRetryDelivery makes a delivery due now and wakes the engine; the
// answer comes before the send (202).
func (s *Server) handleRetryDelivery(w http.ResponseWriter, r *http.Request) {
	webhookID := r.PathValue("id")
	d, err := s.cfg.Store.RetryDelivery(r.Context(), tenantOf(r.Context()), webhookID, r.PathValue("delivery_id"), s.cfg.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cfg.Engine.Wake(webhookID)
	writeData(w, http.StatusAccepted, deliveryInfo(d))
}

type recoverIn struct {
	Since    *int64                 `json:"since"`
	Metadata *types.RequestMetadata `json:"metadata"`
}

func (in *recoverIn) metadata() *types.RequestMetadata { return in.Metadata }

func (s *Server) handleRecoverWebhook(w http.ResponseWriter, r *http.Request) {
	var in recoverIn
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Since == nil || *in.Since < 0 {
		s.writeError(w, r, herald.Invalidf("since", "is required: Unix seconds; failed deliveries created since then are retried"))
		return
	}
	webhookID := r.PathValue("id")
	n, err := s.cfg.Store.RecoverDeliveries(r.Context(), tenantOf(r.Context()), webhookID, time.Unix(*in.Since, 0), s.cfg.Now())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cfg.Engine.Wake(webhookID)
	writeData(w, http.StatusAccepted, types.RecoverWebhookResponse{WebhookID: webhookID, Recovered: int64(n)})
}
