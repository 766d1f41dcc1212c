package delivery

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenTarget is returned when a send would connect to an address
// herald refuses: one inside the network herald runs in.
var ErrForbiddenTarget = errors.New("forbidden target address")

// Ranges refused beyond what netip classifies itself.
var (
	cgnat       = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork = netip.MustParsePrefix("0.0.0.0/8")
	reserved    = netip.MustParsePrefix("240.0.0.0/4")
	nat64       = netip.MustParsePrefix("64:ff9b::/96")
)

// ForbiddenReason says why addr is refused as a target, or "" if it is a
// public address. IPv4-mapped and NAT64 IPv6 forms are judged by the IPv4
// address they carry.
func ForbiddenReason(addr netip.Addr) string {
	addr = addr.Unmap()
	if nat64.Contains(addr) {
		b := addr.As16()
		addr = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case addr.IsLoopback():
		return "loopback"
	case addr.IsUnspecified() || thisNetwork.Contains(addr):
		return "unspecified"
	case addr.IsPrivate():
		return "private"
	case addr.IsLinkLocalUnicast():
		// Covers 169.254.169.254 and the other cloud metadata services.
		return "link-local"
	case addr.IsMulticast() || addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast():
		return "multicast"
	case cgnat.Contains(addr):
		return "shared address space (CGNAT)"
	case addr.Is4() && reserved.Contains(addr):
		return "reserved"
	}
	return ""
}

// guard checks each address the dialer is about to connect to, after DNS
// resolution, so a name that resolves (or re-resolves) to an inside
// address cannot pass.
type guard struct {
	allowPrivate bool
	allow        []netip.Prefix
}

func (g guard) control(network, address string, _ syscall.RawConn) error {
	if g.allowPrivate {
		return nil
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("%w: cannot parse %q", ErrForbiddenTarget, host)
	}
	return g.check(addr)
}

// check refuses addr unless it is public, allow-listed, or private targets
// are allowed.
func (g guard) check(addr netip.Addr) error {
	if r := g.refusal(addr); r != "" {
		return fmt.Errorf("%w: %s is a %s address %s", ErrForbiddenTarget, addr.Unmap(), r, allowHint)
	}
	return nil
}

// allowHint tells an operator how to let a refused target through.
const allowHint = "(start herald with --allow-private-targets, or --allow-targets with its range, to permit it)"

// refusal names the kind of address addr is if it is refused, or "".
func (g guard) refusal(addr netip.Addr) string {
	if g.allowPrivate {
		return ""
	}
	for _, p := range g.allow {
		if p.Contains(addr.Unmap()) {
			return ""
		}
	}
	return ForbiddenReason(addr)
}

// checkURL refuses a URL whose host is itself a refused address: an IP
// literal, or localhost.
func (g guard) checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // the URL's own validation reports it
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		// RFC 6761: localhost names resolve to loopback.
		host = "127.0.0.1"
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return nil
	}
	return g.check(addr)
}

// lookupTimeout bounds the name lookup of a registration.
const lookupTimeout = 2 * time.Second

// checkName refuses a URL whose host name resolves, now, to a refused
// address. A name that does not resolve passes: the endpoint may not
// exist yet, and every send checks the address it connects to anyway,
// which also defeats a name that changes what it resolves to.
func (g guard) checkName(ctx context.Context, resolver *net.Resolver, raw string) error {
	if g.allowPrivate {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil
	}
	host := u.Hostname()
	if _, err := netip.ParseAddr(host); err == nil || host == "" {
		return nil // literals are checkURL's
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if r := g.refusal(a); r != "" {
			return fmt.Errorf("%w: %s resolves to %s, a %s address %s", ErrForbiddenTarget, host, a.Unmap(), r, allowHint)
		}
	}
	return nil
}
