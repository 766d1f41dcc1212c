package delivery

import (
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// FuzzForbiddenReason: an IPv4 address is judged the same in its plain,
// IPv4-mapped and NAT64 forms, so no spelling slips past the guard.
func FuzzForbiddenReason(f *testing.F) {
	for _, seed := range [][4]byte{{127, 0, 0, 1}, {10, 1, 2, 3}, {169, 254, 169, 254}, {100, 64, 0, 1}, {8, 8, 8, 8}, {0, 0, 0, 0}, {224, 0, 0, 1}, {255, 255, 255, 255}} {
		f.Add(seed[0], seed[1], seed[2], seed[3])
	}
	f.Fuzz(func(t *testing.T, a, b, c, d byte) {
		v4 := netip.AddrFrom4([4]byte{a, b, c, d})
		mapped := netip.AddrFrom16(v4.As16())
		nat := netip.MustParseAddr("64:ff9b::").As16()
		copy(nat[12:], []byte{a, b, c, d})
		want := ForbiddenReason(v4)
		if got := ForbiddenReason(mapped); got != want {
			t.Fatalf("%s is %q but its mapped form %s is %q", v4, want, mapped, got)
		}
		if got := ForbiddenReason(netip.AddrFrom16(nat)); got != want {
			t.Fatalf("%s is %q but its NAT64 form is %q", v4, want, got)
		}
	})
}

// FuzzCheckTarget: registration refuses exactly the URLs whose host is a
// literal address the connect-time guard would refuse, and never panics.
func FuzzCheckTarget(f *testing.F) {
	for _, seed := range []string{
		"https://example.com/hook", "http://127.0.0.1:8080/", "http://[::1]/", "http://[::ffff:169.254.169.254]/",
		"http://localhost/", "http://LOCALHOST./x", "http://api.localhost/", "http://[fe80::1%25eth0]/",
		"http://0x7f.1/", "http://2130706433/", "http://10.0.0.1:99999/", "http://[64:ff9b::a9fe:a9fe]/", "::", "http://%zz/",
	} {
		f.Add(seed)
	}
	strict := guard{}
	f.Fuzz(func(t *testing.T, raw string) {
		err := strict.checkURL(raw)
		if err != nil && !errors.Is(err, ErrForbiddenTarget) {
			t.Fatalf("checkURL(%q) = %v, not ErrForbiddenTarget", raw, err)
		}
		u, perr := url.Parse(raw)
		if perr != nil {
			return
		}
		host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		addr, aerr := netip.ParseAddr(host)
		if aerr != nil {
			return
		}
		if refused := strict.control("tcp", netip.AddrPortFrom(addr, 80).String(), nil) != nil; refused != (err != nil) {
			t.Fatalf("checkURL(%q) = %v, but the connect-time guard refuses it: %v", raw, err, refused)
		}
	})
}
