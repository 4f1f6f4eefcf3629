package udpecho_test

import (
	"net"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/udpecho"
)

func TestServe(t *testing.T) {
	tests := []struct {
		name   string
		answer func([]byte) []byte
		send   string
		want   string
	}{
		{"echo", nil, "ping", "ping"},
		{"responder", func(p []byte) []byte { return append([]byte("re: "), p...) }, "ping", "re: ping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { udpecho.Serve(pc, tt.answer); close(done) }()
			defer func() { pc.Close(); <-done }()
			c, err := net.Dial("udp", pc.LocalAddr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_, _ = c.Write([]byte(tt.send))
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			buf := make([]byte, 64)
			n, err := c.Read(buf)
			if err != nil || string(buf[:n]) != tt.want {
				t.Fatalf("got %q, %v; want %q", buf[:n], err, tt.want)
			}
		})
	}
}
