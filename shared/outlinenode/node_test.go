package outlinenode_test

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/httvps/httvps/shared/outlinenode"
	"github.com/shadowsocks/go-shadowsocks2/core"
	"github.com/shadowsocks/go-shadowsocks2/socks"
)

func TestRelaysThroughShadowsocks(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		c, err := target.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c)
	}()
	node, cipher := startNode(t)
	raw, err := net.Dial("tcp", node.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	conn := cipher.StreamConn(raw)
	defer conn.Close()
	payload := bytes.Repeat([]byte("httvps"), 10000)
	msg := append(socks.ParseAddr(target.Addr().String()), payload...)
	if _, err := conn.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(payload))
	if _, err := io.ReadFull(conn, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatal("echo differs")
	}
}

func TestStartErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  outlinenode.Config
	}{
		{"bad method", outlinenode.Config{Addr: "127.0.0.1:0", Method: "rc4-md5", Password: "x"}},
		{"bad address", outlinenode.Config{Addr: "nonsense", Password: "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n, err := outlinenode.Start(tt.cfg); err == nil {
				n.Close()
				t.Fatal("expected an error")
			}
		})
	}
}

func TestRelaysUDPThroughShadowsocks(t *testing.T) {
	target, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := target.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = target.WriteTo(buf[:n], from)
		}
	}()
	node, cipher := startNode(t)
	raw, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc := cipher.PacketConn(raw)
	defer pc.Close()
	nodeAddr := &net.UDPAddr{IP: node.Addr().IP, Port: node.Addr().Port}
	msg := append(socks.ParseAddr(target.LocalAddr().String()), []byte("datagram")...)
	if _, err := pc.WriteTo(msg, nodeAddr); err != nil {
		t.Fatal(err)
	}
	_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 2048)
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	src := socks.SplitAddr(buf[:n])
	if src.String() != target.LocalAddr().String() || !bytes.Equal(buf[len(src):n], []byte("datagram")) {
		t.Fatalf("reply from %s: %q", src, buf[len(src):n])
	}
}

// startNode runs a node with password "secret" until the test ends and returns its cipher.
func startNode(t *testing.T) (*outlinenode.Node, core.Cipher) {
	t.Helper()
	node, err := outlinenode.Start(outlinenode.Config{Addr: "127.0.0.1:0", Password: "secret"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = node.Close() })
	cipher, err := core.PickCipher(outlinenode.DefaultMethod, nil, "secret")
	if err != nil {
		t.Fatal(err)
	}
	return node, cipher
}
