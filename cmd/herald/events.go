package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/types"
)

func newEventsCommand() *cobra.Command {
	var o apiOptions
	cmd := &cobra.Command{
		Use:     "events",
		Aliases: []string{"event"},
		Short:   "Publish and inspect events on a running herald",
	}
	o.register(cmd)
	cmd.AddCommand(newEventsPublishCommand(&o), newEventsGetCommand(&o), newEventsTypesCommand(&o))
	return cmd
}

func newEventsPublishCommand(o *apiOptions) *cobra.Command {
	var (
		req  types.PublishEventRequest
		data string
	)
	cmd := &cobra.Command{
		Use:     "publish --event TYPE [--data JSON]",
		Short:   "Publish an event to every subscribed webhook",
		Example: `  herald events publish --event template.completed --data '{"template_id": "t_1"}'`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if data != "" {
				if err := json.Unmarshal([]byte(data), &req.Data); err != nil {
					return fmt.Errorf("--data must be a JSON object: %w", err)
				}
			}
			resp, err := o.client().PublishEvent(cmd.Context(), &req)
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), resp, func(w *tabwriter.Writer) {
				row(w, "event", resp.EventID)
				row(w, "deliveries", resp.Deliveries)
				if resp.Duplicate {
					row(w, "duplicate", "yes: the idempotency key matched this earlier event")
				}
			})
		},
	}
	cmd.Flags().StringVar(&req.Event, "event", "", "event type")
	cmd.Flags().StringVar(&data, "data", "", "event data as a JSON object")
	cmd.Flags().StringVar(&req.IdempotencyKey, "idempotency-key", "", "publish at most once per key within 24 hours")
	cmd.MarkFlagRequired("event")
	return cmd
}

func newEventsGetCommand(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "get EVENT_ID",
		Short: "Show an event and the state of its deliveries",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ev, err := o.client().GetEvent(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), ev, func(w *tabwriter.Writer) {
				data, _ := json.Marshal(ev.Data)
				row(w, "event", ev.ID)
				row(w, "type", ev.Event)
				row(w, "published", when(ev.Timestamp))
				row(w, "data", string(data))
				fmt.Fprintln(w)
				deliveriesTable(w, ev.Deliveries)
			})
		},
	}
}

func newEventsTypesCommand(o *apiOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "types",
		Short: "List the event types herald accepts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			resp, err := o.client().ListEventTypes(cmd.Context())
			if err != nil {
				return err
			}
			return o.print(cmd.OutOrStdout(), resp, func(w *tabwriter.Writer) {
				row(w, "EVENT TYPE")
				for _, name := range resp.EventTypes {
					row(w, name)
				}
			})
		},
	}
}
