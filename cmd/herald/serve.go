package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/heraldhq/herald"
	"github.com/heraldhq/herald/internal/delivery"
	"github.com/heraldhq/herald/internal/httpapi"
	"github.com/heraldhq/herald/internal/metrics"
	"github.com/heraldhq/herald/internal/postgres"
	"github.com/heraldhq/herald/internal/retention"
	"github.com/heraldhq/herald/internal/sealed"
	"github.com/heraldhq/herald/internal/sqlite"
)

// Serve defaults.
const (
	defaultAddr          = "127.0.0.1:8080"
	defaultDB            = "herald.db"
	defaultShutdownGrace = 20 * time.Second
)

type serveOptions struct {
	addr                string
	db                  string
	allowPrivateTargets bool
	allowTargets        []string
	eventTypes          []string
	logLevel            string
	logFormat           string
	shutdownGrace       time.Duration
	lease               time.Duration
	maxPayloadBytes     int64
	cpuProfile          string
	queueSize           int
	apiKeys             []string
	limits              serveLimits
	disableAfter        time.Duration
	retention           time.Duration
}

// serveLimits are the bounds herald puts on its callers: each one
// documented in docs/SECURITY.md.
type serveLimits struct {
	maxBodyBytes      int64
	maxHeaderBytes    int
	maxBatchEvents    int
	maxWebhooks       int
	rateLimit         float64
	rateBurst         int
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	writeTimeout      time.Duration
	idleTimeout       time.Duration
}

func newServeCommand() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the API and the delivery workers",
		Long: "serve runs herald's REST API and delivery workers. With no --db it keeps\n" +
			"everything in the SQLite file herald.db in the working directory.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return serve(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", defaultAddr, "address to listen on")
	f.StringVar(&o.db, "db", defaultDB, "SQLite file path, or a postgres:// URL to share work with other heralds")
	f.BoolVar(&o.allowPrivateTargets, "allow-private-targets", false,
		"let deliveries reach loopback, private and link-local addresses")
	f.StringSliceVar(&o.allowTargets, "allow-targets", nil,
		"address ranges deliveries may reach although they are private, as CIDRs or addresses (comma-separated)")
	f.StringSliceVar(&o.eventTypes, "event-types", nil, "event types to accept beside the built-in ones (comma-separated)")
	f.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	f.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	f.DurationVar(&o.shutdownGrace, "shutdown-grace", defaultShutdownGrace, "how long a shutdown waits for requests and sends in flight")
	f.DurationVar(&o.lease, "lease", delivery.DefaultLease, "how long a claimed delivery is held before another process may take it")
	f.StringSliceVar(&o.apiKeys, "api-keys", nil, "API keys to create at start, as tenant:key pairs (comma-separated); usually set as HERALD_API_KEYS")
	f.DurationVar(&o.disableAfter, "auto-disable-after", delivery.DefaultDisableAfter,
		"deactivate a webhook once every attempt to it has failed for this long (0: never; a 410 Gone always does)")
	f.DurationVar(&o.retention, "retention", retention.DefaultRetention,
		"how long events and their delivery logs are kept once every delivery is final (0: forever)")
	f.IntVar(&o.queueSize, "queue-size", delivery.DefaultQueueSize, "deliveries held in memory per webhook; the rest wait in the database")
	f.StringVar(&o.cpuProfile, "cpu-profile", "", "write a CPU profile of the whole run to this file")
	f.MarkHidden("cpu-profile")
	f.Int64Var(&o.maxPayloadBytes, "max-payload-bytes", httpapi.DefaultMaxPayloadBytes, "largest event data accepted, in bytes")
	l := &o.limits
	f.Int64Var(&l.maxBodyBytes, "max-body-bytes", httpapi.DefaultMaxBodyBytes, "largest request body accepted other than publishes, in bytes")
	f.IntVar(&l.maxHeaderBytes, "max-header-bytes", 64<<10, "largest request header block accepted, in bytes")
	f.IntVar(&l.maxBatchEvents, "max-batch-events", httpapi.DefaultMaxBatchEvents, "most events in one batch publish")
	f.IntVar(&l.maxWebhooks, "max-webhooks", httpapi.DefaultMaxWebhooks, "most webhooks one tenant may have (-1: no cap)")
	f.Float64Var(&l.rateLimit, "rate-limit", httpapi.DefaultRateLimit, "API requests per second allowed per API key (-1: no limit)")
	f.IntVar(&l.rateBurst, "rate-burst", httpapi.DefaultRateBurst, "largest burst of API requests one key may make before --rate-limit applies")
	f.DurationVar(&l.readHeaderTimeout, "read-header-timeout", 10*time.Second, "how long a client may take to send request headers")
	f.DurationVar(&l.readTimeout, "read-timeout", 30*time.Second, "how long a client may take to send a whole request")
	// Long enough for a test send, which may wait on its 15 s timeout.
	f.DurationVar(&l.writeTimeout, "write-timeout", 60*time.Second, "how long herald may take to answer a request")
	f.DurationVar(&l.idleTimeout, "idle-timeout", 120*time.Second, "how long an idle keep-alive connection stays open")
	return cmd
}

func serve(ctx context.Context, o serveOptions) error {
	logger, err := newLogger(o.logLevel, o.logFormat)
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	eventTypes, err := herald.NewEventTypes(o.eventTypes...)
	if err != nil {
		return fmt.Errorf("--event-types: %w", err)
	}
	allowTargets, err := parsePrefixes(o.allowTargets)
	if err != nil {
		return fmt.Errorf("--allow-targets: %w", err)
	}
	if err := retention.Check(o.retention); err != nil {
		return fmt.Errorf("--retention %v: %w", o.retention, err)
	}
	raw, err := openStore(ctx, o.db)
	if err != nil {
		return err
	}
	defer raw.Close()
	store, requireKey, err := prepareStore(ctx, raw, o, logger)
	if err != nil {
		return err
	}

	sender := delivery.NewSender(delivery.SenderConfig{
		UserAgent:           "herald/" + heraldVersion(),
		AllowPrivateTargets: o.allowPrivateTargets,
		AllowTargets:        allowTargets,
	})
	if o.disableAfter <= 0 {
		o.disableAfter = -1 // the engine's "never"
	}
	m := metrics.New(heraldVersion())
	m.WatchBacklog(store.Backlog)
	var live liveProcesses // heralds sharing the database, this one included
	engine, err := delivery.NewEngine(delivery.EngineConfig{
		Store: store, Sender: sender, Logger: logger, Lease: o.lease, QueueSize: o.queueSize,
		SoleProcess: !postgres.IsURL(o.db), // a SQLite file has one herald; PostgreSQL may have many
		Share:       live.get, DisableAfter: o.disableAfter, Observer: m,
	})
	if err != nil {
		return err
	}
	if err := engine.Start(ctx); err != nil {
		return fmt.Errorf("start delivery engine: %w", err)
	}
	stopBackground, err := startBackground(raw, store, engine, &live, o.retention, logger)
	if err != nil {
		return err
	}
	defer stopBackground() // before the store closes

	api, err := httpapi.New(httpapi.Config{
		Store: store, Sender: sender, Engine: engine, EventTypes: eventTypes, Version: heraldVersion(),
		Logger: logger, MaxPayloadBytes: o.maxPayloadBytes, RequireAPIKey: requireKey,
		MaxBodyBytes: o.limits.maxBodyBytes, MaxBatchEvents: o.limits.maxBatchEvents,
		MaxWebhooks: o.limits.maxWebhooks, RateLimit: o.limits.rateLimit, RateBurst: o.limits.rateBurst,
		Metrics: m,
	})
	if err != nil {
		return err
	}
	if !requireKey {
		stopWatching := watchForKeys(store, api, logger)
		defer stopWatching()
	}
	return listenAndServe(ctx, o, api, engine, logger)
}

// keyPollInterval is how often an open herald looks for a first API key.
const keyPollInterval = 2 * time.Second

// watchForKeys makes an open herald require API keys as soon as one is
// created (by 'herald keys create', perhaps from another machine), rather
// than at its next start.
func watchForKeys(store herald.Store, api *httpapi.Server, logger *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(keyPollInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if ok, err := hasWorkingKey(ctx, store); err == nil && ok {
				api.RequireAPIKeys()
				logger.Info("an API key exists now: every API request needs one")
				return
			}
		}
	}()
	return func() { cancel(); <-done }
}

// prepareStore seals secrets, creates bootstrap keys, and decides whether
// requests need an API key: without one herald serves only on loopback.
func prepareStore(ctx context.Context, raw herald.Store, o serveOptions, logger *slog.Logger) (*sealed.Store, bool, error) {
	store, err := sealSecrets(ctx, raw, logger)
	if err != nil {
		return nil, false, err
	}
	if err := bootstrapAPIKeys(ctx, store, o.apiKeys); err != nil {
		return nil, false, err
	}
	requireKey, err := hasWorkingKey(ctx, store)
	if err != nil {
		return nil, false, err
	}
	if !requireKey {
		if err := checkOpenMode(o.addr, logger); err != nil {
			return nil, false, err
		}
	}
	return store, requireKey, nil
}

// startBackground starts the retention pass and, on PostgreSQL, the
// listener and the heartbeat. The returned func stops them all and waits.
func startBackground(raw herald.Store, store herald.Store, engine *delivery.Engine, live *liveProcesses,
	keep time.Duration, logger *slog.Logger) (func(), error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		retention.Run(ctx, retention.Config{Store: store, Retention: keep, Logger: logger})
	}()
	stop := func() { cancel(); wg.Wait() }
	pg, ok := raw.(*postgres.Store)
	if !ok {
		return stop, nil
	}
	// Deliveries committed by any herald wake this one at once, and
	// heartbeats give each its share of every webhook's send cap.
	id := newProcessID()
	if err := beat(ctx, pg, id, live); err != nil {
		stop()
		return nil, fmt.Errorf("register this process: %w", err)
	}
	wg.Add(2)
	go func() { defer wg.Done(); pg.Listen(ctx, engine.Wake) }()
	go func() { defer wg.Done(); heartbeat(ctx, pg, id, live, logger) }()
	return func() { stop(); pg.Leave(context.Background(), id) }, nil
}

// listenAndServe serves the API until ctx ends, then stops taking requests
// and lets sends in flight finish within the grace period.
func listenAndServe(ctx context.Context, o serveOptions, api http.Handler, engine *delivery.Engine, logger *slog.Logger) error {
	srv := &http.Server{
		Addr:              o.addr,
		Handler:           api,
		ReadHeaderTimeout: o.limits.readHeaderTimeout,
		ReadTimeout:       o.limits.readTimeout,
		WriteTimeout:      o.limits.writeTimeout,
		IdleTimeout:       o.limits.idleTimeout,
		MaxHeaderBytes:    o.limits.maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	logger.Info("herald is serving", "addr", ln.Addr().String(), "db", redactURL(o.db), "version", heraldVersion())

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Stop taking requests first, then let sends in flight finish: nothing
	// new is accepted while the engine drains.
	logger.Info("shutting down", "grace", o.shutdownGrace)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), o.shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if err := engine.Stop(shutdownCtx); err != nil {
		logger.Warn("delivery engine stopped with an error; leases end on the next start", "err", err)
	}
	logger.Info("stopped")
	return nil
}

// encryptionKeyEnv holds the keys that seal webhook secrets at rest. It
// has no flag twin: a key on the command line shows in ps.
const encryptionKeyEnv = "HERALD_ENCRYPTION_KEY"

// sealSecrets wraps the store so webhook secrets are encrypted at rest
// when HERALD_ENCRYPTION_KEY is set, and seals any stored before it was.
// It refuses to start when a stored secret cannot be decrypted.
func sealSecrets(ctx context.Context, raw herald.Store, logger *slog.Logger) (*sealed.Store, error) {
	keys, err := sealed.ParseKeys(os.Getenv(encryptionKeyEnv))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", encryptionKeyEnv, err)
	}
	store := sealed.Wrap(raw, keys)
	tenants, err := knownTenants(ctx, raw)
	if err != nil {
		return nil, err
	}
	n, err := store.Prepare(ctx, tenants)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", encryptionKeyEnv, err)
	}
	if keys == nil {
		logger.Info("webhook secrets are stored unencrypted; set " + encryptionKeyEnv + " to encrypt them at rest")
	} else {
		logger.Info("webhook secrets are encrypted at rest", "sealed_now", n)
	}
	return store, nil
}

// knownTenants lists every tenant that can own webhooks: the open-mode
// tenant and every API key's.
func knownTenants(ctx context.Context, store herald.Store) ([]string, error) {
	keys, err := store.ListAPIKeys(ctx)
	if err != nil {
		return nil, err
	}
	tenants := []string{httpapi.DefaultTenant}
	for _, k := range keys {
		if !slices.Contains(tenants, k.TenantID) {
			tenants = append(tenants, k.TenantID)
		}
	}
	return tenants, nil
}

// heartbeat keeps this process counted among the live ones until ctx
// ends.
func heartbeat(ctx context.Context, pg *postgres.Store, id string, live *liveProcesses, logger *slog.Logger) {
	t := time.NewTicker(postgres.ProcessTTL / 5)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := beat(ctx, pg, id, live); err != nil && ctx.Err() == nil {
				logger.Warn("heartbeat failed", "err", err)
			}
		}
	}
}

func beat(ctx context.Context, pg *postgres.Store, id string, live *liveProcesses) error {
	rank, count, err := pg.Heartbeat(ctx, id, time.Now())
	if err == nil {
		live.v.Store(&[2]int{rank, count})
	}
	return err
}

// liveProcesses is this process's rank among the heralds sharing the
// database, and their number, as of the last heartbeat.
type liveProcesses struct {
	v atomic.Pointer[[2]int]
}

// get returns rank and count; a sole process until the first heartbeat.
func (l *liveProcesses) get() (rank, count int) {
	if p := l.v.Load(); p != nil {
		return p[0], p[1]
	}
	return 0, 1
}

func newProcessID() string {
	host, _ := os.Hostname()
	b := make([]byte, 6)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%x", host, os.Getpid(), b)
}

// openStore opens PostgreSQL for a postgres:// URL and SQLite otherwise.
func openStore(ctx context.Context, db string) (herald.Store, error) {
	if postgres.IsURL(db) {
		return postgres.Open(ctx, db)
	}
	if strings.Contains(db, "://") {
		return nil, fmt.Errorf("--db %q: want a SQLite file path or a postgres:// URL", redactURL(db))
	}
	return sqlite.Open(ctx, db)
}

// parsePrefixes parses CIDRs; a bare address stands for itself alone.
func parsePrefixes(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is neither a CIDR (10.0.0.0/8) nor an address", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// redactURL hides a password in a database URL before it is logged.
func redactURL(db string) string {
	u, err := url.Parse(db)
	if err != nil || u.User == nil {
		return db
	}
	return u.Redacted()
}

// checkOpenMode refuses to serve unauthenticated requests anywhere but on
// loopback: without API keys, anyone who can reach the port owns herald.
func checkOpenMode(addr string, logger *slog.Logger) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--addr %q: herald has no API keys, so it serves unauthenticated requests and only on loopback (127.0.0.1 or [::1]); create one with 'herald keys create --tenant NAME' or set HERALD_API_KEYS", addr)
	}
	logger.Warn("no API keys: accepting unauthenticated requests, on loopback only; create one with 'herald keys create' to require keys")
	return nil
}

func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(os.Stderr, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(os.Stderr, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
