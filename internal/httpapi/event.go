package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/types"
)

type publishEventIn struct {
	Event          string                 `json:"event"`
	Data           json.RawMessage        `json:"data"`
	IdempotencyKey string                 `json:"idempotency_key"`
	Metadata       *types.RequestMetadata `json:"metadata"`
}

func (in *publishEventIn) metadata() *types.RequestMetadata { return in.Metadata }

type publishEventsIn struct {
	Events   []*publishEventIn      `json:"events"`
	Metadata *types.RequestMetadata `json:"metadata"`
}

func (in *publishEventsIn) metadata() *types.RequestMetadata { return in.Metadata }

// publishInput validates one event and renders its payload. field
// prefixes the names of faulty fields ("events[3].").
func (s *Server) publishInput(r *http.Request, in *publishEventIn, field string) (herald.PublishInput, error) {
	if in == nil {
		return herald.PublishInput{}, herald.Invalidf(field, "must be an event object")
	}
	if in.Event == "" {
		return herald.PublishInput{}, herald.Invalidf(field+"event", "is required")
	}
	if err := s.cfg.EventTypes.CheckType(field+"event", in.Event); err != nil {
		return herald.PublishInput{}, err
	}
	if int64(len(in.Data)) > s.cfg.MaxPayloadBytes {
		return herald.PublishInput{}, &herald.Error{Code: herald.CodeTooLarge, Field: field + "data",
			Message: fmt.Sprintf("must be at most %d bytes, got %d", s.cfg.MaxPayloadBytes, len(in.Data))}
	}
	if len(in.IdempotencyKey) > maxIdempotencyKeyLen {
		return herald.PublishInput{}, herald.Invalidf(field+"idempotency_key", "must be at most %d bytes", maxIdempotencyKeyLen)
	}
	now := s.cfg.Now().UTC()
	id := newID("evt_")
	payload, err := herald.RenderPayload(id, in.Event, now, in.Data)
	if err != nil {
		return herald.PublishInput{}, herald.Invalidf(field+"data", "must be a JSON object")
	}
	return herald.PublishInput{
		Event: &herald.Event{
			ID: id, TenantID: tenantOf(r.Context()), Type: in.Event, Payload: payload.Body, CreatedAt: now,
		},
		IdempotencyKey: in.IdempotencyKey,
	}, nil
}

func publishedOut(p herald.Published) *types.PublishEventResponse {
	return &types.PublishEventResponse{EventID: p.Event.ID, Deliveries: int64(p.DeliveryCount), Duplicate: p.Repeat}
}

// handlePublishEvent answers 202 only after the event and its deliveries
// are committed.
func (s *Server) handlePublishEvent(w http.ResponseWriter, r *http.Request) {
	var in publishEventIn
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	input, err := s.publishInput(r, &in, "")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.cfg.Engine.Publish(r.Context(), []herald.PublishInput{input})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeData(w, http.StatusAccepted, publishedOut(out[0]))
}

// handlePublishEvents publishes a batch in one transaction: all or none.
func (s *Server) handlePublishEvents(w http.ResponseWriter, r *http.Request) {
	var in publishEventsIn
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case len(in.Events) == 0:
		s.writeError(w, r, herald.Invalidf("events", "must hold at least one event"))
		return
	case len(in.Events) > s.cfg.MaxBatchEvents:
		s.writeError(w, r, herald.Invalidf("events", "must hold at most %d events, got %d", s.cfg.MaxBatchEvents, len(in.Events)))
		return
	}
	inputs := make([]herald.PublishInput, len(in.Events))
	for i, ev := range in.Events {
		var err error
		if inputs[i], err = s.publishInput(r, ev, fmt.Sprintf("events[%d].", i)); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	out, err := s.cfg.Engine.Publish(r.Context(), inputs)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	resp := types.PublishEventsResponse{Events: make([]*types.PublishEventResponse, len(out))}
	for i, p := range out {
		resp.Events[i] = publishedOut(p)
	}
	writeData(w, http.StatusAccepted, resp)
}

func (s *Server) handleGetEvent(w http.ResponseWriter, r *http.Request) {
	ev, deliveries, err := s.cfg.Store.GetEvent(r.Context(), tenantOf(r.Context()), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var body struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(ev.Payload, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := struct {
		ID         string                `json:"id"`
		Event      string                `json:"event"`
		Timestamp  int64                 `json:"timestamp"`
		Data       json.RawMessage       `json:"data"`
		Deliveries []*types.DeliveryInfo `json:"deliveries"`
	}{ev.ID, ev.Type, ev.CreatedAt.Unix(), body.Data, make([]*types.DeliveryInfo, len(deliveries))}
	for i, d := range deliveries {
		out.Deliveries[i] = deliveryInfo(d)
	}
	writeData(w, http.StatusOK, out)
}

func (s *Server) handleEventTypes(w http.ResponseWriter, r *http.Request) {
	writeData(w, http.StatusOK, types.EventTypesResponse{EventTypes: s.cfg.EventTypes.Names()})
}
