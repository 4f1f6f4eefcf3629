package corked

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync/atomic"
	"testing"
)

type countingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func pipe(t *testing.T) (*Conn, *countingConn, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	counted := &countingConn{Conn: a}
	return &Conn{Conn: counted}, counted, b
}

func TestCorkGathersWrites(t *testing.T) {
	tests := []struct {
		name       string
		writes     int
		size       int
		cork       bool
		wantWrites int64
	}{
		{"uncorked writes go straight through", 5, 100, false, 5},
		{"corked small writes are one", 5, 100, true, 1},
		{"corked writes past flushAt are sent early", 3, flushAt / 2, true, 2},
		{"nothing gathered sends nothing", 0, 0, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, counted, peer := pipe(t)
			want := bytes.Repeat([]byte{7}, tt.writes*tt.size)
			got := make(chan []byte, 1)
			go func() {
				b, _ := io.ReadAll(io.LimitReader(peer, int64(len(want))))
				got <- b
			}()
			if tt.cork {
				c.Cork()
			}
			for range tt.writes {
				if n, err := c.Write(bytes.Repeat([]byte{7}, tt.size)); err != nil || n != tt.size {
					t.Fatalf("write %d, %v", n, err)
				}
			}
			if err := c.Uncork(); err != nil {
				t.Fatal(err)
			}
			if b := <-got; !bytes.Equal(b, want) {
				t.Fatalf("peer got %d bytes, want %d", len(b), len(want))
			}
			if n := counted.writes.Load(); n != tt.wantWrites {
				t.Fatalf("%d writes to the connection, want %d", n, tt.wantWrites)
			}
		})
	}
}

func TestOfFindsTheConnUnderTLS(t *testing.T) {
	c, _, _ := pipe(t)
	tc := tls.Server(c, &tls.Config{})
	if Of(tc) != c {
		t.Fatal("Of did not find the corked connection under tls.Conn")
	}
	if Of(struct{}{}) != nil {
		t.Fatal("Of found a corked connection in a value without one")
	}
}
