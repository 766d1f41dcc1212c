package main

import (
	"encoding/json"
	"fmt"
	"os"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/internal/bench"
)

func newBenchCommand() *cobra.Command {
	var (
		cfg    bench.Config
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure herald end to end against plain HTTP posts on this machine",
		Long: "bench runs each scenario twice on loopback: plain Go HTTP POSTs to a receiver\n" +
			"(the machine's ceiling), then herald as a separate process taking events\n" +
			"through its API and delivering them to the same receiver. It reports\n" +
			"deliveries per second, publish-to-arrival latency, herald's peak RSS and\n" +
			"the ratio of herald to the ceiling.\n\n" +
			"Scenarios: fanout1 (1 webhook × 20,000 events), fanout10 (10 webhooks ×\n" +
			"2,000 events), isolation (a healthy endpoint's latency alone and beside\n" +
			"one that never answers, with 100,000 deliveries pending).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			bin, err := os.Executable()
			if err != nil {
				return err
			}
			cfg.HeraldBinary = bin
			cfg.Log = func(format string, args ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", args...) }
			results, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(results)
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			row(w, "SCENARIO", "MODE", "PROCS", "DELIVERIES", "SECONDS", "PER SECOND", "P50 MS", "P99 MS", "PEAK RSS MB", "VS RAW", "NOTE")
			for _, r := range results {
				ratio := ""
				if r.RatioToRaw > 0 {
					ratio = fmt.Sprintf("%.2f", r.RatioToRaw)
				}
				procs := ""
				if r.Processes > 0 {
					procs = fmt.Sprint(r.Processes)
				}
				row(w, r.Scenario, r.Mode, procs, r.Deliveries, fmt.Sprintf("%.2f", r.Seconds), fmt.Sprintf("%.0f", r.PerSecond),
					fmt.Sprintf("%.1f", r.P50MS), fmt.Sprintf("%.1f", r.P99MS), fmt.Sprintf("%.0f", r.PeakRSSMB), ratio, r.Note)
			}
			return w.Flush()
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&cfg.Scenarios, "scenarios", nil, "scenarios to run: fanout1, fanout10, isolation (default all)")
	f.IntVar(&cfg.Concurrency, "concurrency", 32, "sends in flight, for herald and the raw baseline alike")
	f.Float64Var(&cfg.Scale, "scale", 1, "multiply every scenario's event counts")
	f.StringVar(&cfg.DB, "db", "", "a postgres:// URL to run herald on PostgreSQL, a fresh schema per run (default: a fresh SQLite file per run)")
	f.IntVar(&cfg.Processes, "processes", 1, "heralds sharing the database (more than 1 needs --db postgres://...)")
	f.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
	return cmd
}
