package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/types"
)

// Paging defaults for lists.
const (
	DefaultListLimit = 20
	MaxListLimit     = 100
)

// webhookConfigIn is a register body's config. Pointers tell a missing
// field from a zero one: a missing active means true, a missing retry
// field takes its default.
type webhookConfigIn struct {
	URL         string            `json:"url"`
	Events      []string          `json:"events"`
	Secret      string            `json:"secret"`
	RetryPolicy *retryPolicyIn    `json:"retry_policy"`
	Headers     map[string]string `json:"headers"`
	Active      *bool             `json:"active"`
	Description string            `json:"description"`
	MaxInFlight *int32            `json:"max_in_flight"`
}

type retryPolicyIn struct {
	MaxRetries    *int32   `json:"max_retries"`
	InitialDelay  *int32   `json:"initial_delay"`
	MaxDelay      *int32   `json:"max_delay"`
	BackoffFactor *float64 `json:"backoff_factor"`
}

// over returns base with the fields p sets replaced. A zero value counts
// as missing, except max_retries, where 0 means "never retry".
func (p *retryPolicyIn) over(base herald.RetryPolicy) herald.RetryPolicy {
	if p == nil {
		return base
	}
	ms := func(v int32) time.Duration { return time.Duration(v) * time.Millisecond }
	if p.MaxRetries != nil {
		base.MaxRetries = int(*p.MaxRetries)
	}
	if p.InitialDelay != nil && *p.InitialDelay != 0 {
		base.InitialDelay = ms(*p.InitialDelay)
	}
	if p.MaxDelay != nil && *p.MaxDelay != 0 {
		base.MaxDelay = ms(*p.MaxDelay)
	}
	if p.BackoffFactor != nil && *p.BackoffFactor != 0 {
		base.BackoffFactor = *p.BackoffFactor
	}
	return base
}

type registerWebhookIn struct {
	Config   *webhookConfigIn       `json:"config"`
	Metadata *types.RequestMetadata `json:"metadata"`
}

func (in *registerWebhookIn) metadata() *types.RequestMetadata { return in.Metadata }

// webhookUpdateIn is a PATCH body's config: nil leaves a field unchanged.
type webhookUpdateIn struct {
	URL         *string            `json:"url"`
	Events      *[]string          `json:"events"`
	Secret      *string            `json:"secret"`
	RetryPolicy *retryPolicyIn     `json:"retry_policy"`
	Headers     *map[string]string `json:"headers"`
	Active      *bool              `json:"active"`
	Description *string            `json:"description"`
	MaxInFlight *int32             `json:"max_in_flight"`
}

type updateWebhookIn struct {
	Config   *webhookUpdateIn       `json:"config"`
	Metadata *types.RequestMetadata `json:"metadata"`
}

func (in *updateWebhookIn) metadata() *types.RequestMetadata { return in.Metadata }

// Outgoing shapes: active and every retry field are always present, so a
// reader of raw JSON sees "active": false rather than nothing.
type webhookInfoOut struct {
	*types.WebhookInfo
	Config webhookConfigOut `json:"config"`
}

type webhookConfigOut struct {
	*types.WebhookConfig
	RetryPolicy retryPolicyOut `json:"retry_policy"`
	Active      bool           `json:"active"`
}

type retryPolicyOut struct {
	MaxRetries    int32   `json:"max_retries"`
	InitialDelay  int32   `json:"initial_delay"`
	MaxDelay      int32   `json:"max_delay"`
	BackoffFactor float64 `json:"backoff_factor"`
}

// webhookInfo converts a domain webhook to its wire form, without secrets.
func webhookInfo(w *herald.Webhook) webhookInfoOut {
	unix := func(t time.Time) int64 {
		if t.IsZero() {
			return 0
		}
		return t.Unix()
	}
	return webhookInfoOut{
		WebhookInfo: &types.WebhookInfo{
			ID:             w.ID,
			CreatedAt:      unix(w.CreatedAt),
			UpdatedAt:      unix(w.UpdatedAt),
			LastUsedAt:     unix(w.LastUsedAt),
			SuccessCount:   w.SuccessCount,
			ErrorCount:     w.ErrorCount,
			FailingSince:   unix(w.FailingSince),
			DisabledReason: w.DisabledReason,
			DisabledAt:     unix(w.DisabledAt),
		},
		Config: webhookConfigOut{
			WebhookConfig: &types.WebhookConfig{
				URL:         w.URL,
				Events:      w.Events,
				Headers:     w.Headers,
				Description: w.Description,
				MaxInFlight: int32(w.MaxInFlight),
			},
			RetryPolicy: retryPolicyOut{
				MaxRetries:    int32(w.RetryPolicy.MaxRetries),
				InitialDelay:  int32(w.RetryPolicy.InitialDelay.Milliseconds()),
				MaxDelay:      int32(w.RetryPolicy.MaxDelay.Milliseconds()),
				BackoffFactor: w.RetryPolicy.BackoffFactor,
			},
			Active: w.Active,
		},
	}
}

func newID(prefix string) string {
	return prefix + strings.ReplaceAll(uuid.Must(uuid.NewV7()).String(), "-", "")
}

func (s *Server) handleRegisterWebhook(w http.ResponseWriter, r *http.Request) {
	var in registerWebhookIn
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Config == nil {
		s.writeError(w, r, herald.Invalidf("config", "is required"))
		return
	}
	c, now := in.Config, s.cfg.Now().UTC()
	wh := &herald.Webhook{
		ID:          newID("wh_"),
		TenantID:    tenantOf(r.Context()),
		URL:         c.URL,
		Events:      c.Events,
		Secret:      c.Secret,
		RetryPolicy: c.RetryPolicy.over(herald.DefaultRetryPolicy()),
		Headers:     c.Headers,
		Active:      c.Active == nil || *c.Active,
		Description: c.Description,
		MaxInFlight: herald.DefaultMaxInFlight,
		CreatedAt:   now,
		UpdatedAt:   now,
	}
	if c.MaxInFlight != nil {
		wh.MaxInFlight = int(*c.MaxInFlight)
	}
	if wh.Secret == "" {
		wh.Secret = herald.GenerateSecret()
	}
	if err := s.validateWebhook(r.Context(), wh); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.cfg.Store.CreateWebhook(r.Context(), wh, max(s.cfg.MaxWebhooks, 0)); err != nil {
		s.writeError(w, r, err)
		return
	}
	writeData(w, http.StatusCreated, types.RegisterWebhookResponse{
		WebhookID: wh.ID,
		Status:    "registered",
		Message:   "webhook registered; keep the secret: it is not shown again",
		Secret:    wh.Secret,
	})
}

// validateWebhook checks a webhook's configuration and that its URL does
// not name an address deliveries may not reach.
func (s *Server) validateWebhook(ctx context.Context, wh *herald.Webhook) error {
	if err := wh.Validate(s.cfg.EventTypes); err != nil {
		return err
	}
	return s.cfg.Sender.CheckTarget(ctx, "url", wh.URL)
}

func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := herald.WebhookFilter{Limit: DefaultListLimit}
	var err error
	if v := q.Get("active_only"); v != "" {
		if f.ActiveOnly, err = strconv.ParseBool(v); err != nil {
			s.writeError(w, r, herald.Invalidf("active_only", "must be true or false, got %q", v))
			return
		}
	}
	if f.Limit, f.Offset, err = paging(q.Get("limit"), q.Get("offset")); err != nil {
		s.writeError(w, r, err)
		return
	}
	list, total, err := s.cfg.Store.ListWebhooks(r.Context(), tenantOf(r.Context()), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]webhookInfoOut, len(list))
	for i, wh := range list {
		out[i] = webhookInfo(wh)
	}
	writeData(w, http.StatusOK, struct {
		Webhooks []webhookInfoOut `json:"webhooks"`
		Total    int              `json:"total"`
		Limit    int              `json:"limit"`
		Offset   int              `json:"offset"`
	}{out, total, f.Limit, f.Offset})
}

// paging parses limit and offset query values; empty or zero values take
// the defaults.
func paging(limit, offset string) (int, int, error) {
	l, o := DefaultListLimit, 0
	if limit != "" {
		n, err := strconv.Atoi(limit)
		if err != nil || n < 0 || n > MaxListLimit {
			return 0, 0, herald.Invalidf("limit", "must be a whole number from 1 to %d, got %q", MaxListLimit, limit)
		}
		if n > 0 {
			l = n
		}
	}
	if offset != "" {
		n, err := strconv.Atoi(offset)
		if err != nil || n < 0 {
			return 0, 0, herald.Invalidf("offset", "must be a whole number of 0 or more, got %q", offset)
		}
		o = n
	}
	return l, o, nil
}

func (s *Server) handleGetWebhook(w http.ResponseWriter, r *http.Request) {
	wh, err := s.cfg.Store.GetWebhook(r.Context(), tenantOf(r.Context()), r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeData(w, http.StatusOK, webhookInfo(wh))
}

func (s *Server) handleUpdateWebhook(w http.ResponseWriter, r *http.Request) {
	var in updateWebhookIn
	if err := decodeJSON(w, r, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.Config == nil {
		s.writeError(w, r, herald.Invalidf("config", "is required: send the fields to change under \"config\""))
		return
	}
	c := in.Config
	upd := herald.WebhookUpdate{
		URL: c.URL, Events: c.Events, Secret: c.Secret, Headers: c.Headers,
		Active: c.Active, Description: c.Description,
	}
	if c.MaxInFlight != nil {
		n := int(*c.MaxInFlight)
		upd.MaxInFlight = &n
	}
	// A new URL's target is checked before the transaction, since it may
	// resolve a name; an unchanged URL stays, whatever rules it was
	// registered under.
	if c.URL != nil {
		if err := s.cfg.Sender.CheckTarget(r.Context(), "url", *c.URL); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	now := s.cfg.Now().UTC()
	wh, err := s.cfg.Store.UpdateWebhook(r.Context(), tenantOf(r.Context()), r.PathValue("id"),
		func(wh *herald.Webhook) error {
			if c.RetryPolicy != nil {
				p := c.RetryPolicy.over(wh.RetryPolicy)
				upd.RetryPolicy = &p
			}
			upd.Apply(wh, now)
			return wh.Validate(s.cfg.EventTypes)
		})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cfg.Engine.WebhookChanged(wh.ID)
	writeData(w, http.StatusOK, webhookInfo(wh))
}

func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := s.cfg.Store.DeleteWebhook(r.Context(), tenantOf(r.Context()), id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.cfg.Engine.WebhookChanged(id)
	writeData(w, http.StatusOK, types.DeleteWebhookResponse{
		WebhookID: id,
		Status:    "deleted",
		Message:   "webhook deleted; its pending deliveries are cancelled",
	})
}

func (s *Server) handleWebhookStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Store.WebhookStats(r.Context(), tenantOf(r.Context()))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeData(w, http.StatusOK, types.WebhookStats{
		TotalWebhooks:        st.TotalWebhooks,
		ActiveWebhooks:       st.ActiveWebhooks,
		TotalDeliveries:      st.TotalDeliveries,
		SuccessfulDeliveries: st.SuccessfulDeliveries,
		FailedDeliveries:     st.FailedDeliveries,
	})
}

type testWebhookIn struct {
	Event    string                 `json:"event"`
	Data     json.RawMessage        `json:"data"`
	Metadata *types.RequestMetadata `json:"metadata"`
}

func (in *testWebhookIn) metadata() *types.RequestMetadata { return in.Metadata }

// handleTestWebhook sends one signed request to the webhook now, through
// the same Sender as real deliveries, and reports how it went. A failed
// send is still a successful API call: the answer says what failed.
func (s *Server) handleTestWebhook(w http.ResponseWriter, r *http.Request) {
	var in testWebhookIn
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	ctx, tenant := r.Context(), tenantOf(r.Context())
	wh, err := s.cfg.Store.GetWebhook(ctx, tenant, r.PathValue("id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	eventType := in.Event
	if eventType == "" {
		eventType = s.testEventType(wh)
	}
	if err := s.cfg.EventTypes.CheckType("event", eventType); err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.cfg.Now()
	payload, err := herald.RenderPayload(newID("evt_test_"), eventType, now, in.Data)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	res := s.cfg.Sender.Send(ctx, wh, delivery.Message{ID: payload.ID, Body: payload.Body}, now)
	if err := s.cfg.Store.RecordWebhookUse(ctx, tenant, wh.ID, res.OK(), now); err != nil {
		s.writeError(w, r, err)
		return
	}
	out := types.TestWebhookResponse{
		WebhookID:      wh.ID,
		Status:         "success",
		ResponseCode:   int32(res.StatusCode),
		ResponseTimeMS: res.Latency.Milliseconds(),
	}
	if !res.OK() {
		out.Status, out.Error = "failed", res.ErrorText()
	}
	writeData(w, http.StatusOK, out)
}

// testEventType picks the event a test sends when the caller names none:
// the webhook's first subscribed type that is known.
func (s *Server) testEventType(wh *herald.Webhook) string {
	for _, pattern := range wh.Events {
		for _, name := range s.cfg.EventTypes.Names() {
			if herald.MatchEvent(pattern, name) {
				return name
			}
		}
	}
	return herald.BuiltinEventTypes[0]
}
