// Command herald is the herald webhook delivery service and its CLI.
//
// Each subcommand lives in its own file; flags and HERALD_* environment
// variables are read only here.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3";
// otherwise it comes from the module's build info.
var version = ""

func heraldVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func main() {
	if err := newRootCommand().Execute(); err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "herald:") {
			msg = "herald: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
}

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "herald",
		Short: "herald delivers webhooks: signed, durably, with retries",
		Long: "herald delivers every published event to every subscribed webhook endpoint,\n" +
			"signed with Standard Webhooks signatures, durably, with retries.\n\n" +
			"Every flag can also be set through the environment: --addr is HERALD_ADDR.",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return applyEnv(cmd)
		},
	}
	root.AddCommand(newServeCommand(), newWebhooksCommand(), newEventsCommand(), newDeliveriesCommand(),
		newListenCommand(), newKeysCommand(), newMigrateCommand(), newBenchCommand(), newVersionCommand())
	return root
}

// applyEnv gives every flag the command can see an environment twin:
// --allow-private-targets is HERALD_ALLOW_PRIVATE_TARGETS. A flag given on
// the command line wins over its twin.
func applyEnv(cmd *cobra.Command) error {
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || firstErr != nil {
			return
		}
		name := "HERALD_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if err := cmd.Flags().Set(f.Name, v); err != nil {
				firstErr = fmt.Errorf("%s=%q: %w", name, v, err)
			}
		}
	})
	return firstErr
}

func newVersionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print herald's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "herald", heraldVersion())
		},
	}
}
