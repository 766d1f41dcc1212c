package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/types"
)

func newDeliveriesCommand() *cobra.Command {
	var o apiOptions
	cmd := &cobra.Command{
		Use:     "deliveries",
		Aliases: []string{"delivery"},
		Short:   "Inspect and retry a webhook's deliveries",
	}
	o.register(cmd)
	cmd.AddCommand(newDeliveriesListCommand(&o), newDeliveriesRetryCommand(&o), newDeliveriesRecoverCommand(&o))
	return cmd
}

func newDeliveriesListCommand(o *apiOptions) *cobra.Command {
	var req types.ListDeliveriesRequest
	cmd := &cobra.Command{
		Use:   "list WEBHOOK_ID",
		Short: "List a webhook's deliveries, newest first, with every attempt",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.WebhookID = args[0]
			resp, err := o.client().ListDeliveries(cmd.Context(), &req)
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), resp, func(w *tabwriter.Writer) {
				deliveriesTable(w, resp.Deliveries)
				for _, d := range resp.Deliveries {
					attemptsTable(w, d)
				}
				fmt.Fprintf(w, "\n%d of %d shown (offset %d)\n", len(resp.Deliveries), resp.Total, resp.Offset)
			})
		},
	}
	cmd.Flags().StringVar(&req.Status, "status", "", "only pending, succeeded, failed or cancelled deliveries")
	cmd.Flags().Int32Var(&req.Limit, "limit", 0, "page size, at most 100 (default 20)")
	cmd.Flags().Int32Var(&req.Offset, "offset", 0, "deliveries to skip")
	return cmd
}

func deliveriesTable(w *tabwriter.Writer, list []*types.DeliveryInfo) {
	row(w, "DELIVERY", "WEBHOOK", "EVENT", "TYPE", "STATUS", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR")
	for _, d := range list {
		next := "-"
		if d.NextAttemptAt != 0 {
			next = when(d.NextAttemptAt)
		}
		row(w, d.ID, d.WebhookID, d.EventID, d.EventType, d.Status, d.Attempts, next, d.LastError)
	}
}

func attemptsTable(w *tabwriter.Writer, d *types.DeliveryInfo) {
	if len(d.AttemptLog) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s attempts:\n", d.ID)
	row(w, "  #", "AT", "STATUS", "LATENCY", "ERROR")
	for _, a := range d.AttemptLog {
		at := time.UnixMilli(a.AttemptedAtMS).UTC().Format("2006-01-02T15:04:05.000Z")
		row(w, fmt.Sprintf("  %d", a.Attempt), at, a.StatusCode, fmt.Sprintf("%d ms", a.LatencyMS), a.Error)
	}
}

func newDeliveriesRetryCommand(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "retry WEBHOOK_ID DELIVERY_ID",
		Short: "Send a delivery again now",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := o.client().RetryDelivery(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), d, func(w *tabwriter.Writer) {
				deliveriesTable(w, []*types.DeliveryInfo{d})
			})
		},
	}
}

func newDeliveriesRecoverCommand(o *apiOptions) *cobra.Command {
	var since time.Duration
	cmd := &cobra.Command{
		Use:     "recover WEBHOOK_ID --since DURATION",
		Short:   "Retry a webhook's failed deliveries created within a span",
		Example: "  herald deliveries recover wh_123 --since 24h",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			resp, err := o.client().RecoverWebhook(cmd.Context(), &types.RecoverWebhookRequest{
				WebhookID: args[0], Since: time.Now().Add(-since).Unix(),
			})
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), resp, func(w *tabwriter.Writer) {
				row(w, "webhook", resp.WebhookID)
				row(w, "recovered", resp.Recovered)
			})
		},
	}
	cmd.Flags().DurationVar(&since, "since", 24*time.Hour, "how far back to look for failed deliveries")
	return cmd
}
