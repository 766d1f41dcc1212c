package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/types"
)

func newWebhooksCommand() *cobra.Command {
	var o apiOptions
	cmd := &cobra.Command{
		Use:     "webhooks",
		Aliases: []string{"webhook", "wh"},
		Short:   "Manage webhooks on a running herald",
	}
	o.register(cmd)
	cmd.AddCommand(
		newWebhooksRegisterCommand(&o), newWebhooksListCommand(&o), newWebhooksGetCommand(&o),
		newWebhooksUpdateCommand(&o), newWebhooksTestCommand(&o), newWebhooksDeleteCommand(&o),
		newWebhooksStatsCommand(&o),
	)
	return cmd
}

// configFlags are the flags that set a webhook's configuration.
type configFlags struct {
	url          string
	events       []string
	secret       string
	description  string
	headers      map[string]string
	active       bool
	maxRetries   int32
	initialDelay time.Duration
	maxDelay     time.Duration
	backoff      float64
	maxInFlight  int32
}

func (c *configFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.url, "url", "", "endpoint URL (http or https)")
	f.StringSliceVar(&c.events, "events", nil, "event types, prefix wildcards (template.*) or * (comma-separated or repeated)")
	f.StringVar(&c.secret, "secret", "", "signing secret, 16 bytes or more (default: a generated whsec_ secret)")
	f.StringVar(&c.description, "description", "", "description")
	f.StringToStringVar(&c.headers, "header", nil, "extra request header NAME=VALUE (repeatable)")
	f.BoolVar(&c.active, "active", true, "deliver to this webhook")
	f.Int32Var(&c.maxRetries, "max-retries", 0, "retries after the first attempt (default 18)")
	f.DurationVar(&c.initialDelay, "initial-delay", 0, "wait before the first retry (default 5s)")
	f.DurationVar(&c.maxDelay, "max-delay", 0, "longest wait between retries (default 1h)")
	f.Float64Var(&c.backoff, "backoff-factor", 0, "wait multiplier per retry (default 2)")
	f.Int32Var(&c.maxInFlight, "max-in-flight", 0, "concurrent sends to this endpoint (default 10)")
}

// retryPolicy returns the retry fields the user set, or nil.
func (c *configFlags) retryPolicy(cmd *cobra.Command) *types.WebhookRetryPolicy {
	f := cmd.Flags()
	if !f.Changed("max-retries") && !f.Changed("initial-delay") && !f.Changed("max-delay") && !f.Changed("backoff-factor") {
		return nil
	}
	return &types.WebhookRetryPolicy{
		MaxRetries:    c.maxRetries,
		InitialDelay:  int32(c.initialDelay.Milliseconds()),
		MaxDelay:      int32(c.maxDelay.Milliseconds()),
		BackoffFactor: c.backoff,
	}
}

func newWebhooksRegisterCommand(o *apiOptions) *cobra.Command {
	var c configFlags
	cmd := &cobra.Command{
		Use:     "register --url URL --events TYPE[,TYPE]",
		Short:   "Register a webhook",
		Example: "  herald webhooks register --url https://example.com/hooks --events 'template.*,batch.failed'",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl := o.client()
			resp, err := cl.RegisterWebhook(cmd.Context(), &types.RegisterWebhookRequest{Config: &types.WebhookConfig{
				URL: c.url, Events: c.events, Secret: c.secret, RetryPolicy: c.retryPolicy(cmd),
				Headers: c.headers, Active: true, Description: c.description, MaxInFlight: c.maxInFlight,
			}})
			if err != nil {
				return err
			}
			if !c.active {
				// A missing "active" means true on the wire, so an
				// inactive webhook is registered, then paused.
				inactive := false
				_, err := cl.UpdateWebhook(cmd.Context(), &types.UpdateWebhookRequest{
					WebhookID: resp.WebhookID, Config: &types.WebhookConfigUpdate{Active: &inactive}})
				if err != nil {
					return err
				}
			}
			return o.print(cmd.OutOrStdout(), resp, func(w *tabwriter.Writer) {
				row(w, "webhook", resp.WebhookID)
				row(w, "status", resp.Status)
				row(w, "secret", resp.Secret)
				fmt.Fprintln(w, "\nKeep the secret: herald does not show it again.")
			})
		},
	}
	c.register(cmd)
	return cmd
}

func newWebhooksListCommand(o *apiOptions) *cobra.Command {
	var req types.ListWebhooksRequest
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List webhooks, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := o.client().ListWebhooks(cmd.Context(), &req)
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), resp, func(w *tabwriter.Writer) {
				row(w, "ID", "URL", "EVENTS", "ACTIVE", "OK", "ERRORS", "LAST USED")
				for _, wh := range resp.Webhooks {
					row(w, wh.ID, wh.Config.URL, strings.Join(wh.Config.Events, ","), activeText(wh),
						wh.SuccessCount, wh.ErrorCount, when(wh.LastUsedAt))
				}
				fmt.Fprintf(w, "\n%d of %d shown (offset %d)\n", len(resp.Webhooks), resp.Total, resp.Offset)
			})
		},
	}
	cmd.Flags().BoolVar(&req.ActiveOnly, "active-only", false, "only active webhooks")
	cmd.Flags().Int32Var(&req.Limit, "limit", 0, "page size, at most 100 (default 20)")
	cmd.Flags().Int32Var(&req.Offset, "offset", 0, "webhooks to skip")
	return cmd
}

func newWebhooksGetCommand(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one webhook",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			wh, err := o.client().GetWebhook(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), wh, func(w *tabwriter.Writer) { webhookTable(w, wh) })
		},
	}
}

func webhookTable(w *tabwriter.Writer, wh *types.WebhookInfo) {
	c := wh.Config
	row(w, "id", wh.ID)
	row(w, "url", c.URL)
	row(w, "events", strings.Join(c.Events, ", "))
	row(w, "active", c.Active)
	if wh.DisabledReason != "" {
		row(w, "disabled", fmt.Sprintf("%s, by herald: %s (reactivate with --active=true)", when(wh.DisabledAt), wh.DisabledReason))
	}
	if wh.FailingSince != 0 {
		row(w, "failing since", when(wh.FailingSince))
	}
	row(w, "description", c.Description)
	if c.RetryPolicy != nil {
		p := c.RetryPolicy
		row(w, "retry policy", fmt.Sprintf("%d retries, %v doubling by %g up to %v", p.MaxRetries,
			time.Duration(p.InitialDelay)*time.Millisecond, p.BackoffFactor, time.Duration(p.MaxDelay)*time.Millisecond))
	}
	for name, value := range c.Headers {
		row(w, "header", name+": "+value)
	}
	row(w, "max in flight", c.MaxInFlight)
	row(w, "successes", wh.SuccessCount)
	row(w, "errors", wh.ErrorCount)
	row(w, "created", when(wh.CreatedAt))
	row(w, "updated", when(wh.UpdatedAt))
	row(w, "last used", when(wh.LastUsedAt))
}

// activeText is a webhook's ACTIVE column: whether it delivers, and if
// herald stopped it, that it did.
func activeText(wh *types.WebhookInfo) string {
	switch {
	case wh.Config.Active:
		return "true"
	case wh.DisabledReason != "":
		return "false (auto-disabled)"
	}
	return "false"
}

func newWebhooksUpdateCommand(o *apiOptions) *cobra.Command {
	var c configFlags
	cmd := &cobra.Command{
		Use:     "update ID [flags]",
		Short:   "Change a webhook: only the flags given are changed",
		Example: "  herald webhooks update wh_123 --active=false\n  herald webhooks update wh_123 --secret NEW-SECRET-0123456789",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			upd, f := &types.WebhookConfigUpdate{}, cmd.Flags()
			if f.Changed("url") {
				upd.URL = &c.url
			}
			if f.Changed("events") {
				upd.Events = &c.events
			}
			if f.Changed("secret") {
				upd.Secret = &c.secret
			}
			if f.Changed("description") {
				upd.Description = &c.description
			}
			if f.Changed("header") {
				upd.Headers = &c.headers
			}
			if f.Changed("active") {
				upd.Active = &c.active
			}
			if f.Changed("max-in-flight") {
				upd.MaxInFlight = &c.maxInFlight
			}
			upd.RetryPolicy = c.retryPolicy(cmd)
			wh, err := o.client().UpdateWebhook(cmd.Context(), &types.UpdateWebhookRequest{WebhookID: args[0], Config: upd})
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), wh, func(w *tabwriter.Writer) { webhookTable(w, wh) })
		},
	}
	c.register(cmd)
	return cmd
}

func newWebhooksTestCommand(o *apiOptions) *cobra.Command {
	var (
		event string
		data  string
	)
	cmd := &cobra.Command{
		Use:   "test ID",
		Short: "Send one signed test request to a webhook now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := &types.TestWebhookRequest{WebhookID: args[0], Event: event}
			if data != "" {
				if err := json.Unmarshal([]byte(data), &req.Data); err != nil {
					return fmt.Errorf("--data must be a JSON object: %w", err)
				}
			}
			resp, err := o.client().TestWebhook(cmd.Context(), req)
			if err != nil {
				return err
			}
			if err := o.print(cmd.OutOrStdout(), resp, func(w *tabwriter.Writer) {
				row(w, "webhook", resp.WebhookID)
				row(w, "status", resp.Status)
				row(w, "response code", resp.ResponseCode)
				row(w, "response time", fmt.Sprintf("%d ms", resp.ResponseTimeMS))
				if resp.Error != "" {
					row(w, "error", resp.Error)
				}
			}); err != nil {
				return err
			}
			if resp.Status != "success" {
				return fmt.Errorf("test send failed: %s", resp.Error)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&event, "event", "", "event type to send (default: the webhook's first)")
	cmd.Flags().StringVar(&data, "data", "", `event data as a JSON object, such as '{"test": true}'`)
	return cmd
}

func newWebhooksDeleteCommand(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a webhook and cancel its pending deliveries",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := o.client().DeleteWebhook(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), resp, func(w *tabwriter.Writer) {
				row(w, "webhook", resp.WebhookID)
				row(w, "status", resp.Status)
			})
		},
	}
}

func newWebhooksStatsCommand(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "stats",
		Short: "Show webhook and delivery totals",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := o.client().WebhookStats(cmd.Context())
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), st, func(w *tabwriter.Writer) {
				row(w, "webhooks", st.TotalWebhooks)
				row(w, "active webhooks", st.ActiveWebhooks)
				row(w, "deliveries", st.TotalDeliveries)
				row(w, "succeeded", st.SuccessfulDeliveries)
				row(w, "failed", st.FailedDeliveries)
			})
		},
	}
}
