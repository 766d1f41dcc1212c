package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/heraldhq/herald/types"
)

var errNilRequest = errors.New("herald: request must not be nil")

// RegisterWebhook registers a webhook. The answer holds its signing secret,
// which herald does not show again.
func (c *Client) RegisterWebhook(ctx context.Context, req *types.RegisterWebhookRequest) (*types.RegisterWebhookResponse, error) {
	if req == nil {
		return nil, errNilRequest
	}
	var out types.RegisterWebhookResponse
	if err := c.do(ctx, http.MethodPost, "/webhooks", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListWebhooks returns one page of webhooks, newest first.
func (c *Client) ListWebhooks(ctx context.Context, req *types.ListWebhooksRequest) (*types.ListWebhooksResponse, error) {
	q := url.Values{}
	if req != nil {
		if req.ActiveOnly {
			q.Set("active_only", "true")
		}
		if req.Limit != 0 {
			q.Set("limit", strconv.Itoa(int(req.Limit)))
		}
		if req.Offset != 0 {
			q.Set("offset", strconv.Itoa(int(req.Offset)))
		}
	}
	var out types.ListWebhooksResponse
	if err := c.do(ctx, http.MethodGet, "/webhooks", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetWebhook returns one webhook.
func (c *Client) GetWebhook(ctx context.Context, webhookID string) (*types.WebhookInfo, error) {
	var out types.WebhookInfo
	if err := c.do(ctx, http.MethodGet, "/webhooks/"+url.PathEscape(webhookID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateWebhook changes the fields req.Config sets and returns the result.
func (c *Client) UpdateWebhook(ctx context.Context, req *types.UpdateWebhookRequest) (*types.WebhookInfo, error) {
	if req == nil {
		return nil, errNilRequest
	}
	var out types.WebhookInfo
	if err := c.do(ctx, http.MethodPatch, "/webhooks/"+url.PathEscape(req.WebhookID), nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteWebhook deletes a webhook and cancels its pending deliveries.
func (c *Client) DeleteWebhook(ctx context.Context, webhookID string) (*types.DeleteWebhookResponse, error) {
	var out types.DeleteWebhookResponse
	if err := c.do(ctx, http.MethodDelete, "/webhooks/"+url.PathEscape(webhookID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// TestWebhook sends one signed request to the webhook now and reports how
// it went. A failed send is not an error: the answer's Status and Error say
// what failed.
func (c *Client) TestWebhook(ctx context.Context, req *types.TestWebhookRequest) (*types.TestWebhookResponse, error) {
	if req == nil {
		return nil, errNilRequest
	}
	var out types.TestWebhookResponse
	if err := c.do(ctx, http.MethodPost, "/webhooks/"+url.PathEscape(req.WebhookID)+"/test", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WebhookStats returns the caller's webhook and delivery totals.
func (c *Client) WebhookStats(ctx context.Context) (*types.WebhookStats, error) {
	var out types.WebhookStats
	if err := c.do(ctx, http.MethodGet, "/webhooks/stats", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
