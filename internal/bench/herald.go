package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldhq/herald/client"
	"github.com/heraldhq/herald/types"
)

// heraldProcess is a `herald serve` started for one run.
type heraldProcess struct {
	cmd    *exec.Cmd
	client *client.Client
	dir    string
}

func startHerald(ctx context.Context, cfg Config, db string) (*heraldProcess, error) {
	dir, err := os.MkdirTemp("", "herald-bench")
	if err != nil {
		return nil, err
	}
	if db == "" {
		db = filepath.Join(dir, "herald.db")
	}
	cmd := exec.CommandContext(ctx, cfg.HeraldBinary, "serve", "--addr", "127.0.0.1:0", "--db", db,
		"--allow-private-targets", "--log-format", "json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr, Level string }
			if json.Unmarshal(sc.Bytes(), &line) != nil {
				cfg.Log("herald: %s", sc.Text()) // a crash, most likely
				continue
			}
			switch {
			case line.Msg == "herald is serving":
				addr <- line.Addr
			case line.Level == "WARN" || line.Level == "ERROR":
				cfg.Log("herald: %s", sc.Text())
			}
		}
	}()
	p := &heraldProcess{cmd: cmd, dir: dir}
	select {
	case a := <-addr:
		p.client = client.New(client.Config{BaseURL: "http://" + a})
		return p, nil
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("herald did not start within 30s")
	}
}

// peakRSSMB reads the process's high-water resident set from /proc.
func (p *heraldProcess) peakRSSMB() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func (p *heraldProcess) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
	os.RemoveAll(p.dir)
}

// cluster is the heralds of one run, sharing one database.
type cluster struct {
	procs   []*heraldProcess
	clients []*client.Client
	dropDB  func()
}

// startCluster starts cfg.Processes heralds on a fresh database: a new
// SQLite file, or a new schema of cfg.DB, dropped by stop.
func startCluster(ctx context.Context, cfg Config) (*cluster, error) {
	c := &cluster{dropDB: func() {}}
	db := ""
	if isPostgres(cfg.DB) {
		var err error
		if db, c.dropDB, err = freshSchema(ctx, cfg.DB); err != nil {
			return nil, err
		}
	} else if cfg.Processes > 1 {
		return nil, fmt.Errorf("several processes need a shared PostgreSQL database (--db postgres://...)")
	}
	for range max(1, cfg.Processes) {
		p, err := startHerald(ctx, cfg, db)
		if err != nil {
			c.stop()
			return nil, err
		}
		c.procs = append(c.procs, p)
		c.clients = append(c.clients, p.client)
	}
	return c, nil
}

func (c *cluster) stop() {
	for _, p := range c.procs {
		p.stop()
	}
	c.dropDB()
}

func (c *cluster) peakRSSMB() float64 {
	var peak float64
	for _, p := range c.procs {
		peak = max(peak, p.peakRSSMB())
	}
	return peak
}

// register registers a webhook; inFlight is the total across processes.
func (c *cluster) register(ctx context.Context, url string, events []string, inFlight int) error {
	_, err := c.clients[0].RegisterWebhook(ctx, &types.RegisterWebhookRequest{Config: &types.WebhookConfig{
		URL: url, Events: events, MaxInFlight: int32(max(1, inFlight/len(c.procs))),
	}})
	return err
}

func (p *heraldProcess) register(ctx context.Context, url string, events []string, inFlight int) error {
	_, err := p.client.RegisterWebhook(ctx, &types.RegisterWebhookRequest{Config: &types.WebhookConfig{
		URL: url, Events: events, MaxInFlight: int32(inFlight),
	}})
	return err
}

// publisher publishes events through the batch API from several
// goroutines and keeps each event's publish time.
type publisher struct {
	mu        sync.Mutex
	published map[string]time.Time
	first     time.Time
}

// publish sends n events of one type in batches, with `workers`
// concurrent requests spread over the clients, pausing pace between a
// worker's batches.
func (pb *publisher) publish(ctx context.Context, clients []*client.Client, eventType string, n, batch, workers int, pace time.Duration) error {
	if pb.published == nil {
		pb.published = make(map[string]time.Time, n)
	}
	batches := make(chan int, n/batch+1)
	for left := n; left > 0; left -= batch {
		batches <- min(batch, left)
	}
	close(batches)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				size, ok := <-batches
				if !ok {
					return
				}
				c := clients[(w+i)%len(clients)]
				if err := pb.publishBatch(ctx, c, eventType, size); err != nil {
					errs <- err
					return
				}
				time.Sleep(pace)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (pb *publisher) publishBatch(ctx context.Context, c *client.Client, eventType string, size int) error {
	req := &types.PublishEventsRequest{Events: make([]*types.PublishEventRequest, size)}
	for i := range req.Events {
		req.Events[i] = &types.PublishEventRequest{Event: eventType, Data: map[string]any{"n": i, "batch_id": "b_42", "status": "ok"}}
	}
	sent := time.Now()
	resp, err := c.PublishEvents(ctx, req)
	if err != nil {
		return err
	}
	pb.mu.Lock()
	defer pb.mu.Unlock()
	if pb.first.IsZero() || sent.Before(pb.first) {
		pb.first = sent
	}
	for _, e := range resp.Events {
		pb.published[e.EventID] = sent
	}
	return nil
}
