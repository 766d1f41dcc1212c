package main

import (
	"fmt"
	"strings"
	"testing"
)

func TestParsePrefixes(t *testing.T) {
	got, err := parsePrefixes([]string{"10.1.2.0/24", " 192.168.7.9 ", "fd00::/8", "::ffff:10.9.9.9", "10.1.2.3/16"})
	if err != nil {
		t.Fatal(err)
	}
	want := "[10.1.2.0/24 192.168.7.9/32 fd00::/8 10.9.9.9/32 10.1.0.0/16]"
	if fmt.Sprint(got) != want {
		t.Fatalf("parsePrefixes = %v, want %s", got, want)
	}
	if _, err := parsePrefixes([]string{"10.0.0.0/33"}); err == nil || !strings.Contains(err.Error(), "10.0.0.0/33") {
		t.Fatalf("bad CIDR: err = %v, want one naming it", err)
	}
}
