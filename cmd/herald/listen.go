package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald/verify"
)

type listenOptions struct {
	addr    string
	secrets []string
	status  int
}

func newListenCommand() *cobra.Command {
	var o listenOptions
	cmd := &cobra.Command{
		Use:   "listen --secret SECRET",
		Short: "Run a local receiver that verifies and prints each delivery",
		Long: "listen runs a webhook receiver for development: it checks each request's\n" +
			"Standard Webhooks signature against --secret and prints the delivery.\n" +
			"Requests that do not verify are answered 401.",
		Example: "  herald listen --secret whsec_... --addr 127.0.0.1:9000",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return listen(ctx, o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:9000", "address to listen on")
	f.StringSliceVar(&o.secrets, "secret", nil, "signing secret of the webhook (repeat during a rotation)")
	f.IntVar(&o.status, "status", http.StatusNoContent, "status to answer verified deliveries with (try 500 to watch retries)")
	cmd.MarkFlagRequired("secret")
	return cmd
}

func listen(ctx context.Context, o listenOptions, out io.Writer) error {
	v, err := verify.NewVerifier(o.secrets...)
	if err != nil {
		return fmt.Errorf("--secret: %w", err)
	}
	var mu sync.Mutex // one delivery printed at a time
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, verify.MaxBodyBytes))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		verr := v.Verify(body, r.Header)
		mu.Lock()
		printDelivery(out, r, body, verr)
		mu.Unlock()
		if verr != nil {
			http.Error(w, verr.Error(), http.StatusUnauthorized)
			return
		}
		w.WriteHeader(o.status)
	})
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "listening on http://%s, verifying with %d secret(s)\n", ln.Addr(), len(o.secrets))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

func printDelivery(out io.Writer, r *http.Request, body []byte, verr error) {
	status := "signature verified"
	if verr != nil {
		status = "REJECTED: " + verr.Error()
	}
	fmt.Fprintf(out, "%s %s %s  webhook-id=%s  %s\n", time.Now().Format("15:04:05"), r.Method, r.URL.Path,
		r.Header.Get(verify.HeaderID), status)
	var pretty bytes.Buffer
	if json.Indent(&pretty, body, "  ", "  ") == nil {
		fmt.Fprintf(out, "  %s\n", pretty.String())
	} else {
		fmt.Fprintf(out, "  %q\n", body)
	}
}
