package delivery

import (
	"errors"
	"net/netip"
	"testing"
)

func TestForbiddenReason(t *testing.T) {
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1", "loopback"},
		{"127.8.9.10", "loopback"},
		{"::1", "loopback"},
		{"::ffff:127.0.0.1", "loopback"},
		{"0.0.0.0", "unspecified"},
		{"0.1.2.3", "unspecified"},
		{"::", "unspecified"},
		{"10.0.0.1", "private"},
		{"172.16.0.1", "private"},
		{"172.31.255.255", "private"},
		{"192.168.1.1", "private"},
		{"::ffff:10.1.2.3", "private"},
		{"fc00::1", "private"},
		{"fd00:ec2::254", "private"},
		{"169.254.169.254", "link-local"},
		{"::ffff:169.254.169.254", "link-local"},
		{"64:ff9b::a9fe:a9fe", "link-local"}, // NAT64 form of 169.254.169.254
		{"fe80::1", "link-local"},
		{"224.0.0.1", "multicast"},
		{"239.255.255.250", "multicast"},
		{"ff02::1", "multicast"},
		{"100.64.0.1", "shared address space (CGNAT)"},
		{"100.127.255.254", "shared address space (CGNAT)"},
		{"240.0.0.1", "reserved"},
		{"255.255.255.255", "reserved"},
		{"8.8.8.8", ""},
		{"172.32.0.1", ""},
		{"100.128.0.1", ""},
		{"2606:4700::1111", ""},
		{"::ffff:1.1.1.1", ""},
	}
	for _, tt := range tests {
		if got := ForbiddenReason(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("ForbiddenReason(%s) = %q, want %q", tt.addr, got, tt.want)
		}
	}
}

func TestGuardControl(t *testing.T) {
	strict := guard{}
	if err := strict.control("tcp4", "127.0.0.1:80", nil); !errors.Is(err, ErrForbiddenTarget) {
		t.Fatalf("strict guard let loopback pass: %v", err)
	}
	if err := strict.control("tcp4", "93.184.215.14:443", nil); err != nil {
		t.Fatalf("strict guard refused a public address: %v", err)
	}
	listed := guard{allow: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	if err := listed.control("tcp4", "10.1.2.3:80", nil); err != nil {
		t.Fatalf("allow-listed range refused: %v", err)
	}
	if err := listed.control("tcp4", "10.2.0.1:80", nil); !errors.Is(err, ErrForbiddenTarget) {
		t.Fatalf("range outside the allow-list passed: %v", err)
	}
	if err := (guard{allowPrivate: true}).control("tcp4", "127.0.0.1:80", nil); err != nil {
		t.Fatalf("allowPrivate refused loopback: %v", err)
	}
}
