package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/heraldhq/herald/types"
)

// PublishEvent publishes one event. It returns once the event and its
// deliveries are durable; delivery itself happens afterwards.
func (c *Client) PublishEvent(ctx context.Context, req *types.PublishEventRequest) (*types.PublishEventResponse, error) {
	if req == nil {
		return nil, errNilRequest
	}
	var out types.PublishEventResponse
	if err := c.do(ctx, http.MethodPost, "/events", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PublishEvents publishes up to 500 events in one transaction: all of them
// or, on error, none.
func (c *Client) PublishEvents(ctx context.Context, req *types.PublishEventsRequest) (*types.PublishEventsResponse, error) {
	if req == nil {
		return nil, errNilRequest
	}
	var out types.PublishEventsResponse
	if err := c.do(ctx, http.MethodPost, "/events/batch", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetEvent returns an event and the state of its deliveries.
func (c *Client) GetEvent(ctx context.Context, eventID string) (*types.EventInfo, error) {
	var out types.EventInfo
	if err := c.do(ctx, http.MethodGet, "/events/"+url.PathEscape(eventID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListDeliveries returns one page of a webhook's deliveries, newest first,
// each with its attempts.
func (c *Client) ListDeliveries(ctx context.Context, req *types.ListDeliveriesRequest) (*types.ListDeliveriesResponse, error) {
	if req == nil {
		return nil, errNilRequest
	}
	q := url.Values{}
	if req.Status != "" {
		q.Set("status", req.Status)
	}
	if req.Limit != 0 {
		q.Set("limit", strconv.Itoa(int(req.Limit)))
	}
	if req.Offset != 0 {
		q.Set("offset", strconv.Itoa(int(req.Offset)))
	}
	var out types.ListDeliveriesResponse
	if err := c.do(ctx, http.MethodGet, "/webhooks/"+url.PathEscape(req.WebhookID)+"/deliveries", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RetryDelivery sends a delivery again now, whatever its status.
func (c *Client) RetryDelivery(ctx context.Context, webhookID, deliveryID string) (*types.DeliveryInfo, error) {
	var out types.DeliveryInfo
	path := "/webhooks/" + url.PathEscape(webhookID) + "/deliveries/" + url.PathEscape(deliveryID) + "/retry"
	if err := c.do(ctx, http.MethodPost, path, nil, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RecoverWebhook re-queues the webhook's failed deliveries created since
// req.Since.
func (c *Client) RecoverWebhook(ctx context.Context, req *types.RecoverWebhookRequest) (*types.RecoverWebhookResponse, error) {
	if req == nil {
		return nil, errNilRequest
	}
	var out types.RecoverWebhookResponse
	if err := c.do(ctx, http.MethodPost, "/webhooks/"+url.PathEscape(req.WebhookID)+"/recover", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListEventTypes returns the event types herald accepts, for publishing
// and subscribing.
func (c *Client) ListEventTypes(ctx context.Context) (*types.EventTypesResponse, error) {
	var out types.EventTypesResponse
	if err := c.do(ctx, http.MethodGet, "/event-types", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
