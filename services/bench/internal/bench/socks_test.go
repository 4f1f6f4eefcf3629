package bench

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
)

// TestSOCKSDialSpeaksLikeCurl: greeting, then CONNECT to the IPv4 target, then the caller's bytes.
func TestSOCKSDialSpeaksLikeCurl(t *testing.T) {
	tests := []struct {
		name    string
		reply   []byte
		wantErr bool
	}{
		{name: "ipv4 bound address", reply: []byte{5, 0, 0, 1, 127, 0, 0, 1, 0, 80}},
		{name: "domain bound address", reply: []byte{5, 0, 0, 3, 4, 'h', 'o', 's', 't', 0, 80}},
		{name: "refused", reply: []byte{5, 2, 0, 1, 0, 0, 0, 0, 0, 0}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			heard := make(chan []byte, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				greeting := make([]byte, 3)
				_, _ = io.ReadFull(c, greeting)
				_, _ = c.Write([]byte{5, 0})
				connect := make([]byte, 10)
				_, _ = io.ReadFull(c, connect)
				_, _ = c.Write(tt.reply)
				rest, _ := io.ReadAll(c)
				heard <- append(append(greeting, connect...), rest...)
			}()
			c, err := socksDial(context.Background(), ln.Addr().String(), "127.0.0.1:8080")
			if tt.wantErr {
				if err == nil {
					t.Fatal("dial succeeded despite the refusal")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			_, _ = c.Write([]byte("GET"))
			c.Close()
			want := []byte{5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90, 'G', 'E', 'T'}
			if got := <-heard; !bytes.Equal(got, want) {
				t.Fatalf("proxy heard % x, want % x", got, want)
			}
		})
	}
}
