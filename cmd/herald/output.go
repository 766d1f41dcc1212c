package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/client"
)

// apiOptions are the flags of every command that talks to a running herald.
type apiOptions struct {
	server string
	token  string
	json   bool
}

func (o *apiOptions) register(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.StringVar(&o.server, "server", "http://"+defaultAddr, "herald's base URL")
	f.StringVar(&o.token, "token", "", "API key")
	f.BoolVar(&o.json, "json", false, "print JSON instead of a table")
}

func (o *apiOptions) client() *client.Client {
	return client.New(client.Config{BaseURL: o.server, Token: o.token, UserAgent: "herald-cli/" + heraldVersion()})
}

// print writes v as indented JSON with --json, or calls table otherwise.
func (o *apiOptions) print(w io.Writer, v any, table func(*tabwriter.Writer)) error {
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	table(tw)
	return tw.Flush()
}

func row(w io.Writer, cells ...any) {
	parts := make([]string, len(cells))
	for i, c := range cells {
		parts[i] = fmt.Sprint(c)
	}
	fmt.Fprintln(w, strings.Join(parts, "\t"))
}

// when renders Unix seconds for people; 0 is "never".
func when(unix int64) string {
	if unix == 0 {
		return "never"
	}
	return time.Unix(unix, 0).UTC().Format(time.RFC3339)
}
