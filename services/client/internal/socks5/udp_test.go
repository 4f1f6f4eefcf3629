package socks5

import (
	"bytes"
	"net/netip"
	"strings"
	"testing"
)

func TestParseUDP(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		target  string
		data    string
		errText string
	}{
		{name: "ipv4", in: []byte{0, 0, 0, 1, 1, 2, 3, 4, 0, 53, 'q'}, target: "1.2.3.4:53", data: "q"},
		{name: "domain", in: append(append([]byte{0, 0, 0, 3, 3}, "a.b"...), 1, 187, 'x'), target: "a.b:443", data: "x"},
		{name: "ipv6", in: append(append([]byte{0, 0, 0, 4}, netip.MustParseAddr("::1").AsSlice()...), 0, 80), target: "[::1]:80", data: ""},
		{name: "fragment", in: []byte{0, 0, 1, 1, 1, 2, 3, 4, 0, 53}, errText: "fragments"},
		{name: "short", in: []byte{0, 0}, errText: "shorter"},
		{name: "cut address", in: []byte{0, 0, 0, 1, 1, 2}, errText: "cut short"},
		{name: "empty name", in: []byte{0, 0, 0, 3, 0, 0, 53}, errText: "empty"},
		{name: "unknown type", in: []byte{0, 0, 0, 9, 0, 53}, errText: "unknown"},
		{name: "port zero", in: []byte{0, 0, 0, 1, 1, 2, 3, 4, 0, 0}, errText: "port 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, data, err := ParseUDP(tt.in)
			if tt.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("err = %v, want %q", err, tt.errText)
				}
				return
			}
			if err != nil || target != tt.target || string(data) != tt.data {
				t.Fatalf("got %q %q %v, want %q %q", target, data, err, tt.target, tt.data)
			}
		})
	}
}

func TestAppendUDP(t *testing.T) {
	got := AppendUDP(nil, netip.MustParseAddrPort("1.2.3.4:53"), []byte("r"))
	if want := []byte{0, 0, 0, 1, 1, 2, 3, 4, 0, 53, 'r'}; !bytes.Equal(got, want) {
		t.Fatalf("% x, want % x", got, want)
	}
}
