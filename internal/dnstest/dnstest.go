// Package dnstest runs a DNS server on loopback for tests, so names can
// resolve to any address (a private one, or one that changes between
// lookups) without touching the machine's resolver or the network.
//
// It imports golang.org/x/net/dns/dnsmessage only.
package dnstest

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// Server answers A and AAAA queries from a table that tests may change.
type Server struct {
	conn  net.PacketConn
	mu    sync.Mutex
	names map[string]netip.Addr // lower case, without the final dot
}

// NewServer starts a Server, stopped when t ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{conn: conn, names: map[string]netip.Addr{}}
	go s.serve()
	t.Cleanup(func() { conn.Close() })
	return s
}

// Set makes name resolve to addr from now on.
func (s *Server) Set(name string, addr netip.Addr) {
	s.mu.Lock()
	s.names[strings.ToLower(strings.TrimSuffix(name, "."))] = addr
	s.mu.Unlock()
}

// Resolver returns a resolver that asks only this server.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.conn.LocalAddr().String())
	}}
}

func (s *Server) serve() {
	buf := make([]byte, 512)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		if answer, ok := s.answer(buf[:n]); ok {
			s.conn.WriteTo(answer, from)
		}
	}
}

// answer builds the reply to one query: the name's address when the type
// matches, no records otherwise, NXDOMAIN for unknown names.
func (s *Server) answer(query []byte) ([]byte, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, false
	}
	q, err := p.Question()
	if err != nil {
		return nil, false
	}
	s.mu.Lock()
	addr, known := s.names[strings.ToLower(strings.TrimSuffix(q.Name.String(), "."))]
	s.mu.Unlock()
	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: rcode})
	b.EnableCompression()
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0}
	switch {
	case known && q.Type == dnsmessage.TypeA && addr.Is4():
		b.AResource(rh, dnsmessage.AResource{A: addr.As4()})
	case known && q.Type == dnsmessage.TypeAAAA && addr.Is6():
		b.AAAAResource(rh, dnsmessage.AAAAResource{AAAA: addr.As16()})
	}
	out, err := b.Finish()
	return out, err == nil
}
