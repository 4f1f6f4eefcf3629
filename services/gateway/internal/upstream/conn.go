package upstream

import (
	"net"
)

// Conn is a Shadowsocks stream to an Outline node. CloseWrite half-closes the TCP connection
// under the cipher, which the node passes on to the target.
type Conn struct {
	net.Conn
	tcp *net.TCPConn
}

func (c *Conn) CloseWrite() error { return c.tcp.CloseWrite() }
