package bench

import (
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// receiver is the loopback endpoint every scenario delivers to. It notes
// when each event arrives, measured from when it was published.
type receiver struct {
	srv      *http.Server
	url      string
	mu       sync.Mutex
	arrivals []arrival
	arrived  atomic.Int64
	last     atomic.Int64 // unix nanos of the latest arrival
	dead     chan struct{}
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &receiver{url: "http://" + ln.Addr().String(), dead: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /ok/", r.handleOK)
	mux.HandleFunc("POST /raw", func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		r.arrived.Add(1)
	})
	mux.HandleFunc("POST /dead", func(w http.ResponseWriter, req *http.Request) {
		io.Copy(io.Discard, req.Body)
		select { // hold the request until herald gives up on it
		case <-req.Context().Done():
		case <-r.dead:
		}
	})
	r.srv = &http.Server{Handler: mux}
	go r.srv.Serve(ln)
	return r, nil
}

func (r *receiver) handleOK(w http.ResponseWriter, req *http.Request) {
	io.Copy(io.Discard, req.Body)
	now := time.Now()
	r.mu.Lock()
	r.arrivals = append(r.arrivals, arrival{id: req.Header.Get("webhook-id"), at: now})
	r.mu.Unlock()
	r.arrived.Add(1)
	r.last.Store(now.UnixNano())
}

// reset forgets what arrived, keeping the server.
func (r *receiver) reset() {
	r.mu.Lock()
	r.arrivals = r.arrivals[:0]
	r.mu.Unlock()
	r.arrived.Store(0)
}

// arrival is one delivery reaching the receiver.
type arrival struct {
	id string
	at time.Time
}

// latencies pairs arrivals with publish times: publish-to-arrival.
func (r *receiver) latencies(published map[string]time.Time) (lat []time.Duration, last time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.arrivals {
		if t, ok := published[a.id]; ok {
			lat = append(lat, a.at.Sub(t))
			if a.at.After(last) {
				last = a.at
			}
		}
	}
	return lat, last
}

func (r *receiver) close() {
	close(r.dead)
	r.srv.Close()
}

// waitFor waits until n deliveries arrived or the timeout passes.
func (r *receiver) waitFor(n int64, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for r.arrived.Load() < n {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(2 * time.Millisecond)
	}
	return true
}
