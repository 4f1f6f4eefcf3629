package upstream

import (
	"bytes"
	"io"
	"net"
	"testing"
)

func TestBufferedTCPReadsEverythingInOrder(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	want := make([]byte, 3*readBufferSize+123)
	for i := range want {
		want[i] = byte(i * 7)
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for p := want; len(p) > 0; p = p[min(len(p), 1000):] {
			_, _ = c.Write(p[:min(len(p), 1000)])
		}
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	c := &bufferedTCP{TCPConn: raw.(*net.TCPConn)}
	var got bytes.Buffer
	sizes := []int{18, 16399, 1, readBufferSize, 5000}
	buf := make([]byte, readBufferSize)
	for i := 0; ; i++ {
		n, err := c.Read(buf[:sizes[i%len(sizes)]])
		got.Write(buf[:n])
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("got %d bytes, want %d in order", got.Len(), len(want))
	}
	if c.buf != nil {
		t.Fatal("the buffer is still held after everything was read")
	}
}
